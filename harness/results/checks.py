"""Reading and printing the invariant checks a run recorded (check.json in each run folder):
one line per violation, the terminal summary, and every reason a folder fails the check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.config.errors import HarnessError
from harness.results.rundir import ensure_intact

CHECK_FILE = "check.json"  # in each run folder: the check taken before its teardown
REPORT_KEYS = {"architecture", "quiescence", "totals", "invariants"}


def violations_of(report: dict[str, Any]) -> list[str]:
    """One printable line per violation, naming its ids."""
    lines: list[str] = []
    for inv in report["invariants"]:
        prefix = f"invariant {inv['number']} ({inv['name']}): "
        lines += [prefix + v["detail"] for v in inv["violations"]]
        if inv["more"]:
            lines.append(prefix + f"… and {inv['more']} more violations not listed")
    return lines


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A short table for the terminal: what was checked, how many violations, and the verdict."""
    q = report["quiescence"]
    if q.get("quiescent") is None:
        quiet = "quiescence not waited for"
    elif q["quiescent"]:
        quiet = f"quiescent after {q['waited_s']:.1f} s"
    else:
        quiet = f"NOT quiescent after {q['waited_s']:.1f} s: {_show_busy(q['in_flight'])}"
    totals = report["totals"]
    by_status = ", ".join(f"{n} {status}" for status, n in totals["by_status"].items())
    lines = [
        f"{report['architecture']} checked {report['checked_at']}; {quiet}",
        f"bookings {totals['bookings']} ({by_status or 'none'}); ledger "
        f"{totals['ledger_authorizations']} authorizations, {totals['ledger_refunds']} refunds",
        f"{'':2} {'invariant':<28} {'violations':>10}  checked",
    ]
    for inv in report["invariants"]:
        checked = ", ".join(f"{n} {what}" for what, n in inv["checked"].items())
        note = f" ({inv['note']})" if inv["note"] else ""
        lines.append(f"{inv['number']:>2} {inv['name']:<28} {inv['violation_count']:>10}  "
                     f"{checked}{note}")
    total = totals["violations"]
    lines.append("all five invariants hold" if total == 0 else
                 f"{total} violation{'s' * (total != 1)}")
    return lines


def _show_busy(in_flight: dict[str, Any]) -> str:
    return "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in in_flight.items())


def run_folder_checks(run_dir: Path) -> list[tuple[str, dict[str, Any] | None]]:
    """The check each finished run of a run folder recorded before its teardown (its
    check.json), in run order: (run path, report, or None when the run has none)."""
    ensure_intact(run_dir)
    meta = json.loads((run_dir / "run.json").read_text())
    found = []
    for run in meta.get("runs", []):
        path = run_dir / run["path"] / CHECK_FILE
        report = json.loads(path.read_text()) if path.is_file() else None
        if report is not None and not (isinstance(report, dict) and (
                "error" in report or set(report) >= REPORT_KEYS)):
            raise HarnessError(f"{path} is not a check report (truncated?): it lacks "
                               f"{', '.join(sorted(REPORT_KEYS))}")
        found.append((run["path"], report))
    return found


def check_problems(report: dict[str, Any]) -> list[str]:
    """Every reason one check does not show the invariants holding: its violations, and work
    still in flight when it was taken (a check of a system that never settled proves nothing)."""
    quiet = report["quiescence"]
    problems = violations_of(report)
    if quiet.get("quiescent") is False:
        problems.append(f"not quiescent after {quiet['waited_s']:.1f} s: "
                        f"{_show_busy(quiet.get('in_flight', {}))}")
    return problems


def run_folder_problems(checks: list[tuple[str, dict[str, Any] | None]]) -> list[str]:
    """Every reason a run folder does not show the invariants holding, one line each."""
    problems = []
    for path, report in checks:
        if report is None:
            problems.append(f"{path}: no {CHECK_FILE}: this run was not checked (it predates "
                            "the invariant check); run the scenario again")
        elif "error" in report:
            problems.append(f"{path}: the check could not run: {report['error']}")
        else:
            problems += [f"{path}: {line}" for line in check_problems(report)]
    return problems
