"""The `archbench` command line."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.config import architectures
from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from harness.deploy.deployment import deployed, describe, new_deployment_dir
from harness.deploy.supervisor import stop_signals_interrupt
from harness.pipeline import run as runner
from harness.pipeline import steps
from harness.verify.replay import read_deployment, replay_deployment
from sim.errors import SimError

if TYPE_CHECKING:
    from harness.report.headline import Headline
    from harness.report.render import Table as ReportTable

app = typer.Typer(
    help="Measure what a monolith and event-driven microservices really cost.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _registered(name: str) -> str:
    """An architecture of the registry (harness.config.architectures), or a usage error."""
    known = architectures.names()
    if name not in known:
        raise typer.BadParameter(f"unknown architecture {name!r}; known: {', '.join(known)}")
    return name


@app.callback()
def _root() -> None:
    """archbench: deploy, load, simulate and compare two architectures of one booking system."""


@app.command()
def up(
    architecture: Annotated[str, typer.Argument(
        help="which architecture to start: a name of the registry (monolith, microservices, "
             "or one of $ARCHBENCH_ARCHITECTURES)", callback=_registered)],
    port: Annotated[int | None, typer.Option(min=1, max=65535,
                                             help="gateway port (default: a free one)")] = None,
    scenario: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                  help="scenario YAML (dataset, payments)")] = None,
    dsn: Annotated[str | None, typer.Option(help="use this PostgreSQL server instead of "
                                                 "starting one")] = None,
    nats: Annotated[str | None, typer.Option(help="microservices: use this NATS server "
                                                  "(JetStream on) instead of starting one")] = None,
    workdir: Annotated[Path | None, typer.Option(help="deployment folder (default: "
                                                      ".deployments/<arch>-<time>)")] = None,
    keep_data: Annotated[bool, typer.Option(help="keep the PostgreSQL data folder")] = False,
) -> None:
    """Start ARCHITECTURE with its infrastructure, print the base URL, stop all on Ctrl-C."""
    resolved = load_scenario(scenario)
    root = workdir or new_deployment_dir(architecture)
    with stop_signals_interrupt():
        try:
            with console.status("deploying") as status, deployed(
                architecture, resolved, root=root, port=port, dsn=dsn, nats_url=nats,
                keep_data=keep_data, step=lambda text: status.update(text),
            ) as deployment:
                table = Table("process", "pid", "ports", "log", title=f"{architecture} up")
                for row in describe(deployment):
                    table.add_row(*(str(v) for v in row.values()))
                console.print(table)
                console.print(f"healthy after {deployment.cold_start_s:.1f} s; "
                              f"folder {deployment.root}")
                print(deployment.base_url, flush=True)
                console.print("Ctrl-C stops everything.")
                while True:
                    dead = deployment.dead_processes()
                    if dead:
                        names = ", ".join(f"{p.name} (exit {p.popen.returncode})" for p in dead)
                        raise HarnessError(f"{names} stopped unexpectedly; see {root / 'logs'}")
                    time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("stopped; no process left running")


@app.command("run")
def run_scenario(
    scenario: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                             help="scenario YAML, e.g. scenarios/quickstart.yaml")],
    out: Annotated[Path | None, typer.Option(help="run folder (default: results/<name>-<time>); "
                                                  "must not exist")] = None,
    fresh: Annotated[bool, typer.Option(
        help="measure the live audit and check the simulation engine now, even if an earlier run "
             "of the same code and settings did (their results are reused otherwise: "
             ".archbench-cache/), and keep the new results for the next runs")] = False,
) -> None:
    """Deploy, warm up, load, collect and tear down each architecture, interleaved over repeats
    and load steps; then simulate, audit and write the report, and print the headline numbers.
    Ctrl-C stops everything and marks the folder incomplete."""
    from harness.report.headline import headline  # pandas
    from harness.results.checks import run_folder_checks, run_folder_problems  # pandas, via rundir

    with stop_signals_interrupt():
        try:
            folder = runner.run(scenario, out, console, fresh=fresh)
        except KeyboardInterrupt:
            console.print("interrupted: every process stopped; run.json says what finished")
            raise typer.Exit(130) from None
    show_headline(headline(folder), console)
    print(folder / "report.html", flush=True)
    problems = run_folder_problems(run_folder_checks(folder))
    for line in problems:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if problems:
        console.print(f"[red]the invariant check failed[/red]: `archbench check {folder}` "
                      "lists it again")
        raise typer.Exit(1)
    console.print("invariants: all five hold in every run")


def show_headline(found: Headline, out: Console) -> None:
    """The headline of a run (harness.report.headline) as rich tables."""
    out.rule(found.title)
    for block in (found.latency, found.efficiency):
        if block.rows:
            out.print(_rich(block))
    out.print(found.verdicts, highlight=False)
    for line in found.sources:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in found.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(line)}", highlight=False, soft_wrap=True)
    if found.timings is not None:
        out.print("where the time went, in seconds (run.json has each run's):")
        out.print(_rich(found.timings))


def _rich(block: ReportTable) -> Table:
    table = Table(*block.columns)
    for row in block.rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


@app.command("sim")
def simulate(
    scenario: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="scenario YAML")],
    calibration: Annotated[Path | None, typer.Option(
        exists=True, help="a run folder (its calibration.yaml) or a calibration file; default: the "
                          "calibration shipped with archbench")] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", help="KEY=VALUE scenario override, repeatable: sim.cores_per_host=8, "
                      "sim.network_rtt_ms=2, sim.whatif.parameter=sim.hosts, load.steps=[50,100]")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/sim-<name>-<time>); "
                                                  "must not exist")] = None,
    processes: Annotated[int | None, typer.Option(min=1, max=256, help="parallel replications "
                                                                       "(default: one per core)")] = None,
    saturation: Annotated[bool, typer.Option(help="search each architecture's saturation rate")] = True,
) -> None:
    """Simulate SCENARIO (SimPy models of both architectures): latency against load, saturation
    rates and, with `sim.whatif`, where the architectures cross over. No server is started."""
    from sim import params, whatif  # heavy (SimPy, numpy, pandas)

    resolved = load_scenario(scenario, overrides or [])
    cal = params.load(calibration) if calibration is not None else params.default()
    for arch in resolved.architectures:
        cal.arch(arch)
    folder = out or Path.cwd() / "results" / f"sim-{resolved.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists():
        raise HarnessError(f"output folder {folder} already exists; choose another with --out")
    try:  # before minutes of simulation, not after
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(f"cannot create {folder}: {exc.strerror}") from None
    with stop_signals_interrupt():
        try:
            with console.status("simulating"):
                result = whatif.run(resolved, cal, processes=processes,
                                    with_saturation=saturation and resolved.sim.saturation_search)
        except KeyboardInterrupt:
            console.print("interrupted: nothing written")
            raise typer.Exit(130) from None
    whatif.write(result, cal, folder)
    console.print(whatif.markdown(result, cal), markup=False, highlight=False)
    print(folder, flush=True)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="a run folder")],
    simulate: Annotated[bool, typer.Option(help="recalibrate the simulation from the run and "
                                                "redo its predictions first")] = False,
) -> None:
    """Rebuild summary.csv, aggregate.csv, the plots, report.md and report.html of a run."""
    from harness.report import build  # heavy (pandas, matplotlib)
    from harness.results.rundir import ensure_intact

    ensure_intact(run_dir)  # a truncated folder is an error before anything is rewritten

    if simulate:
        with stop_signals_interrupt():
            try:
                steps.simulate(run_dir, console)
            except KeyboardInterrupt:
                console.print("interrupted: the simulation section says so; nothing else changed")
                raise typer.Exit(130) from None
    print(build(run_dir), flush=True)


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="reference run")],
    run_b: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="run compared to A")],
) -> None:
    """Compare two runs' aggregate tables: B relative to A, with spread."""
    from harness.report import compare as compare_runs  # heavy (pandas, matplotlib)

    print(compare_runs(run_a, run_b), flush=True)


@app.command()
def audit(
    scenario: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                  help="scenario YAML (dataset, payments, "
                                                       "audit.samples)")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/audit-<time>); "
                                                  "must not exist")] = None,
    live: Annotated[bool, typer.Option(help="deploy each architecture to measure runtime and "
                                            "availability coupling (--no-live: static only)")] = True,
) -> None:
    """Coupling of both architectures (imports, tables, contracts, runtime, availability) and the
    well-designed-service checklist: writes audit.json, audit.md and dependencies.png. Exits 1
    when a microservice shares a table, names another's table or reaches another's database.
    The live measurements are kept for `archbench run` of the same code and settings."""
    from harness.audit.collect import run_audit  # heavy (grimp, networkx, matplotlib)
    from harness.pipeline.reuse import plan_live_audit, remember_live_audit
    from harness.report.coupling import coupling_blocks
    from harness.report.render import to_markdown
    from harness.results.audit_files import violations
    from harness.results.files import write_atomic

    resolved = load_scenario(scenario)
    folder = out or Path.cwd() / "results" / f"audit-{time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists():
        raise HarnessError(f"output folder {folder} already exists; choose another with --out")
    with stop_signals_interrupt():
        try:
            with console.status("auditing") as status:
                plan = plan_live_audit(resolved, fresh=True, policy=live)
                result = run_audit(folder, resolved, live=plan.measure,
                                   samples=resolved.audit.samples, origins=plan.origins,
                                   step=lambda text: status.update(f"auditing: {text}"))
                remember_live_audit(plan, result, folder)
        except BaseException as exc:  # nothing half-written stays behind
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, KeyboardInterrupt):
                console.print("interrupted: every process stopped; nothing written")
                raise typer.Exit(130) from None
            raise
    markdown = to_markdown(coupling_blocks(folder), folder)
    write_atomic(folder / "audit.md", markdown)
    console.print(markdown, markup=False, highlight=False, soft_wrap=True)
    print(folder / "audit.json", flush=True)
    found = violations(result)
    if found:
        raise HarnessError(f"the microservices are coupled through data: {'; '.join(found)}")


@app.command()
def scorecard(
    run_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                            help="a run folder (or an audit folder)")],
    claims: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                help="claims YAML (default: the one shipped, "
                                                     "harness/audit/claims.yaml)")] = None,
) -> None:
    """Judge every claim of the debate on RUN_DIR: writes scorecard.json and scorecard.csv, and
    rebuilds the report of a run folder. The audit's conclusions are derived again first, with
    this version's rules, from the measurements it stored."""
    from harness.audit.collect import rederive  # heavy (grimp, networkx, matplotlib)
    from harness.audit.scorecard import load_claims  # pandas, via rundir
    from harness.audit.scorecard import scorecard as judge

    load_claims(claims)  # a bad claims file is an error before anything is rewritten
    rederive(run_dir / "audit" if (run_dir / "audit").is_dir() else run_dir)
    card = judge(run_dir, claims)
    table = Table("whose claim", "claim", "evidence", "verdict", "why", title="scorecard")
    for claim in card["claims"]:
        table.add_row(f"{claim['side']} ({claim['kind']})", claim["claim"], claim["evidence"],
                      claim["verdict"], claim["reason"])
    Console().print(table)
    if (run_dir / "run.json").exists():
        from harness.report import build  # heavy (pandas, matplotlib)

        print(build(run_dir, by="archbench scorecard"), flush=True)
    else:
        print(run_dir / "scorecard.json", flush=True)


@app.command()
def check(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                           help="a run folder (archbench run), or the folder of "
                                                "a running deployment (archbench up)")],
    timeout: Annotated[float, typer.Option(min=0, help="live deployment: seconds to wait for "
                                                       "quiescence")] = 60.0,
) -> None:
    """Audit the five invariants of DESIGN.md: no overbooking, conservation of inventory, every
    booking terminal, money against the payment provider's ledger, read side equal to write side
    and to a replay of the event log. On a run folder: the check each run took from its
    databases and ledger after quiescence, before its teardown. On a running deployment: the
    check, now. Prints what was checked and every violation with its ids; exits 1 on any."""
    # pandas (rundir), and asyncpg, nats, httpx (check): loaded only by `archbench check`
    from harness.results.checks import (
        check_problems,
        run_folder_checks,
        run_folder_problems,
        summary_lines,
    )
    from harness.verify.check import check_deployment, wait_quiescent

    out = Console()
    if (folder / "deployment.json").is_file() and not (folder / "run.json").exists():
        state = read_deployment(folder)
        with stop_signals_interrupt():
            try:
                report = check_deployment(state, folder,
                                          quiescence=wait_quiescent(state, timeout_s=timeout))
            except KeyboardInterrupt:
                console.print("interrupted: nothing was changed")
                raise typer.Exit(130) from None
            except HarnessError:
                raise
            except Exception as exc:  # a server of the deployment down, a refused connection
                raise HarnessError(f"cannot check the deployment in {folder}: "
                                   f"{type(exc).__name__}: {exc}") from None
        for line in summary_lines(report):
            out.print(line, markup=False, highlight=False)
        problems = check_problems(report)
    else:
        checks = run_folder_checks(folder)
        if not checks:
            raise HarnessError(f"{folder}: run.json lists no finished run: nothing to check")
        for path, report in checks:
            out.print(f"[bold]{path}[/bold]")
            for line in summary_lines(report) if report and "error" not in report else []:
                out.print("  " + line, markup=False, highlight=False)
        problems = run_folder_problems(checks)
    for line in problems:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)


@app.command()
def replay(
    deployment_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                                   help="folder of a running microservices "
                                                        "deployment (archbench up)")],
) -> None:
    """Rebuild the booking service's aggregates (in memory, against its event store) and the query
    service's read models (into fresh tables, against the live ones) from the JetStream log.

    Run it against a running, quiet deployment: it prints events replayed, rows compared and
    differences, and exits 1 if there is any difference.
    """
    report = replay_deployment(deployment_dir)
    table = Table("service", "events replayed", "rows compared", "differences",
                  title="replay from the JetStream log")
    for row in report:
        table.add_row(row["service"], str(row["events_replayed"]), str(row["rows_compared"]),
                      str(row["differences"]))
    Console().print(table)
    for row in report:
        if row["differences"]:
            console.print(f"{row['service']}: differences {row.get('details')}")
    if any(row["differences"] for row in report):
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except (HarnessError, SimError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
