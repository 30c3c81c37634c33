"""The `archbench` command line."""

from __future__ import annotations

import enum
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.deploy import deployed, describe, new_deployment_dir
from harness.errors import HarnessError
from harness.scenario import load_scenario
from harness.supervisor import sigterm_as_interrupt

app = typer.Typer(
    help="Measure what a monolith and event-driven microservices really cost.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console(stderr=True)


class Arch(enum.StrEnum):
    monolith = "monolith"


@app.callback()
def _root() -> None:
    """archbench: deploy, load, simulate and compare two architectures of one booking system."""


@app.command()
def up(
    architecture: Annotated[Arch, typer.Argument(help="which architecture to start")],
    port: Annotated[int | None, typer.Option(min=1, max=65535,
                                             help="gateway port (default: a free one)")] = None,
    scenario: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                  help="scenario YAML (dataset, payments)")] = None,
    dsn: Annotated[str | None, typer.Option(help="use this PostgreSQL server instead of "
                                                 "starting one")] = None,
    workdir: Annotated[Path | None, typer.Option(help="deployment folder (default: "
                                                      ".deployments/<arch>-<time>)")] = None,
    keep_data: Annotated[bool, typer.Option(help="keep the PostgreSQL data folder")] = False,
) -> None:
    """Start ARCHITECTURE with its infrastructure, print the base URL, stop all on Ctrl-C."""
    resolved = load_scenario(scenario)
    root = workdir or new_deployment_dir(architecture.value)
    with sigterm_as_interrupt():
        try:
            with console.status("deploying") as status, deployed(
                architecture.value, resolved, root=root, port=port, dsn=dsn,
                keep_data=keep_data, step=lambda text: status.update(text),
            ) as deployment:
                table = Table("process", "pid", "ports", "log", title=f"{architecture.value} up")
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


def main() -> None:
    try:
        app()
    except HarnessError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
