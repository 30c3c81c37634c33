"""The steps after the runs, each on the run folder: simulate, audit, judge the scorecard, build
the report. A step that fails records why in its folder; the measurements stand without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from harness.config.scenario import Scenario


def simulate(out: Path, console: Console, *, fresh: bool = False) -> None:
    """Calibrate the simulation from this run, predict it and draw what-if curves (sim/).
    `fresh`: check the engine against queueing theory again even if an earlier run did."""
    from harness.pipeline.simulate import simulate_run  # heavy (SimPy, pandas): only when simulating

    def work(status: Status) -> None:
        simulate_run(out, fresh=fresh, step=lambda text: status.update(f"simulating: {text}"))

    after_the_runs("simulation", out / "sim", work, console)


def audit(out: Path, scenario: Scenario, console: Console, *, fresh: bool = False) -> None:
    """Audit both architectures into audit/ (what `archbench audit` does). The live part is
    reused from an earlier run of the same code and settings (harness.pipeline.reuse) unless
    `fresh`; what is measured now is kept for the next runs."""
    from harness.audit.collect import run_audit  # heavy (grimp, networkx): only when auditing
    from harness.pipeline.reuse import plan_live_audit, remember_live_audit

    def work(status: Status) -> None:
        status.update("auditing: looking for an earlier live audit of this code")
        plan = plan_live_audit(scenario, fresh=fresh)
        result = run_audit(out / "audit", scenario, live=plan.measure,
                           samples=scenario.audit.samples, reused=plan.reused,
                           origins=plan.origins,
                           step=lambda text: status.update(f"auditing: {text}"))
        remember_live_audit(plan, result, out)

    after_the_runs("audit", out / "audit", work, console)


def after_the_runs(what: str, folder: Path, work: Callable[[Status], None],
                    console: Console) -> None:
    """A step that uses the measurements and writes into `folder`. A failure is written to
    folder/error.txt and shown in the report: the measurements stand without it. An interrupt
    is recorded the same way, then goes on up."""
    try:
        with console.status(what) as status:
            work(status)
        console.print(f"{what}: {folder}")
    except KeyboardInterrupt:
        _step_failed(folder, f"interrupted before the {what} finished")
        raise
    except Exception as exc:
        _step_failed(folder, f"{type(exc).__name__}: {exc}")
        console.print(f"[red]{what} failed[/red]: {escape(str(exc))} "
                      f"(see {folder / 'error.txt'})")


def judge(out: Path, console: Console) -> None:
    """The scorecard of this run (scorecard.json); a failure is shown, the run stands. The
    performance claims are judged on aggregate.csv, so the tables are written first."""
    from harness.audit.scorecard import scorecard  # heavy (pandas)
    from harness.report import write_tables  # heavy (pandas, matplotlib)
    from harness.results.provenance import RUN_COMMAND

    try:
        write_tables(out)
        scorecard(out, by=RUN_COMMAND)
    except Exception as exc:
        console.print(f"[red]scorecard failed[/red]: {escape(str(exc))}")


def _step_failed(folder: Path, reason: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "error.txt").write_text(reason + "\n")


def build_report(out: Path, console: Console) -> None:
    from harness.report import build  # heavy (pandas, matplotlib): only when reporting
    from harness.results.provenance import RUN_COMMAND

    report = build(out, by=RUN_COMMAND)
    console.print(f"report: {report}")


