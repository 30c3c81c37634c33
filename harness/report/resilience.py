"""The report's Resilience section, each fault of the scenario with what it cost each architecture
side by side (recomputed from each run's files when the report is built), and its Invariants
section, what each run's check found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.config.architectures import find
from harness.report.plots import figure, save
from harness.report.render import Block, Heading, Image, Notice, Paragraph, Table
from harness.results.checks import check_problems
from harness.results.resilience import AFTER_S, BEFORE_S, BUCKET_S, analyse, p99, read_requests
from harness.results.spread import DASH

SHORT = {"search_availability": "search", "list_hotels": "hotels", "view_booking": "view",
         "list_customer_bookings": "customer", "book": "book", "book_e2e": "book_e2e",
         "cancel": "cancel"}


def resilience_blocks(run_dir: Path, architectures: list[str]) -> list[Block]:
    try:
        runs = analyse(run_dir)
    except (OSError, ValueError, KeyError) as exc:
        return [Heading("Resilience"), Notice("The fault measurements are unreadable", [str(exc)])]
    if not runs:
        return []
    by_fault: dict[tuple[int, int, int], dict[str, dict[str, Any]]] = {}
    for run in runs:
        for fault in run["faults"]:
            key = (run["step"], fault["index"], run["repeat"])
            by_fault.setdefault(key, {})[run["architecture"]] = fault
    archs = [a for a in architectures if any(r["architecture"] == a for r in runs)]
    repeats = len({(r["repeat"], r["step"]) for r in runs}) > 1

    def which(step: int, repeat: int) -> str:
        return f" (s{step} r{repeat})" if repeats else ""

    blocks: list[Block] = [Heading("Resilience"), Paragraph(
        "Each fault of the scenario, injected under load, and what it cost each architecture that "
        "has its target. **Failed** counts requests that failed while the fault held, then after "
        "it was lifted (until the next fault); **recovery** is the time from the fault's end to "
        "the first success of every operation that failed; **p99 back** is when a "
        f"{BUCKET_S:g}-second window again had no failure and a p99 no higher than in the calm "
        f"before the fault (up to {BEFORE_S:g} s, after the warm-up and the previous fault).")]
    errors = [f"{run['architecture']} r{run['repeat']}: fault {f['index']} ({f['action']} "
              f"{f['target']}): {f['error']}" for run in runs for f in run["faults"] if f.get("error")]
    if errors:
        blocks.append(Notice("Some faults could not be injected as planned", errors))
    columns = ["fault"] + [f"{a}: {what}" for a in archs
                           for what in ("failed (during + after)", "recovery", "p99 back")]
    rows = []
    for (step, _index, repeat), per_arch in sorted(by_fault.items()):
        any_fault = next(iter(per_arch.values()))
        name = f"{any_fault['action']} {any_fault['target']} at {any_fault['at_s']:g} s"
        name += which(step, repeat)
        row = [name]
        for arch in archs:
            fault = per_arch.get(arch)
            if fault is None or not fault.get("injected"):
                row += [DASH, DASH, DASH]
                continue
            back = (_seconds(fault.get("p99_recovered_s")) if fault.get("p99_before_ms") is not None
                    else "no baseline (too few requests before)")
            row += [_failed(fault), _seconds(fault.get("recovery_s")), back]
        rows.append(row)
    blocks.append(Table(columns, rows))
    picture = fault_timeline(run_dir, [r for r in runs if r["repeat"] == 0 and r["step"] == 0],
                             archs, run_dir / "plots" / "faults.png")
    if picture is not None:
        blocks.append(Image(picture, "Each fault over time (first repeat): failed requests per "
                                     "second (bars) and the p99 per second of the successful ones "
                                     "but book_e2e (line, log scale); shaded, while the fault "
                                     "held"))
    flow = [(key, fault) for key, per_arch in sorted(by_fault.items())
            for arch, fault in per_arch.items()
            if _kind(arch) == "services" and fault.get("injected") and fault.get("backlog")]
    if flow:
        blocks.append(Paragraph(
            "The microservices' event flow around each fault: the JetStream backlog (messages "
            "pending or unacknowledged, summed over consumers, sampled twice a second; its level "
            "before is the largest in the calm before the fault) and the read side's "
            "lag (events that occurred in the calm before, during, and in the "
            f"{AFTER_S:g} s after the fault)."))
        blocks.append(Table(
            ["fault", "backlog before", "peak", "drained after the end", "read lag p99 before",
             "during", "after"],
            [[f"{f['action']} {f['target']}" + which(step, repeat),
              str(f["backlog"]["before"]), _count(f["backlog"]["peak"]),
              _seconds(f["backlog"]["drained_s"], never="not within the fault's segment"),
              *(_ms(f["read_lag"][when]["p99_ms"]) if f.get("read_lag") else DASH
                for when in ("before", "during", "after"))]
             for (step, _, repeat), f in flow]))
    return blocks


def _failed(fault: dict[str, Any]) -> str:
    during, after = fault["failed_during"], fault["failed_after"]
    total = sum(during.values()) + sum(after.values())
    if not total:
        return "0"
    merged: dict[str, int] = {}
    for counts in (during, after):
        for op, n in counts.items():
            merged[op] = merged.get(op, 0) + n
    detail = ", ".join(f"{SHORT.get(op, op)} {n}" for op, n in sorted(merged.items(),
                                                                        key=lambda kv: -kv[1]))
    return f"{sum(during.values())} + {sum(after.values())} ({detail})"


def _seconds(value: float | None, never: str = "not within the fault's segment") -> str:
    return never if value is None else f"{value:.2f} s"


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f} ms"


def _count(value: int | None) -> str:
    return DASH if value is None else str(value)


def invariant_blocks(run_dir: Path) -> list[Block]:
    """What each run's invariant check (check.json, taken before its teardown) found."""
    rows, problems, any_check = [], [], False
    state = run_dir / "run.json"
    try:
        runs = json.loads(state.read_text()).get("runs", [])
    except (OSError, ValueError):
        return []
    for run in runs:
        path = run_dir / run["path"] / "check.json"
        label = [run["architecture"], str(run["repeat"]), str(run["step"])]
        if not path.is_file():
            rows.append([*label, "not checked", *[DASH] * 6])
            continue
        any_check = True
        try:
            report = json.loads(path.read_text())
        except ValueError:
            rows.append([*label, "check.json unreadable", *[DASH] * 6])
            continue
        if "error" in report:
            rows.append([*label, "could not run", *[DASH] * 6])
            problems.append(f"{run['path']}: {report['error']}")
            continue
        try:
            rows.append([*label, f"{report['totals']['bookings']:,}", *_counts(report),
                         _quiet(report["quiescence"])])
            problems += [f"{run['path']}: {line}" for line in check_problems(report)]
        except (KeyError, TypeError, ValueError):
            rows.append([*label, "check.json is not a check report", *[DASH] * 6])
    if not any_check:
        return []
    footnote = ("n/a: the monolith has one database, read and written by the same transactions; "
                "there is no read side apart and no event log to replay.")
    blocks: list[Block] = [Heading("Invariants"), Paragraph(
        "The five invariants of the design, checked in each run after the load, once nothing was "
        "in flight, from the databases and the payment provider's ledger, before the deployment "
        "was torn down (`archbench check` prints the same): 1 no overbooking, 2 conservation of "
        "inventory, 3 every booking terminal, 4 money (one authorization per confirmed booking, "
        "one refund per cancelled, none for rejected, no duplicate), 5 read side equal to the "
        "write side and to a replay of the event log. The columns count violations.")]
    if problems:
        blocks.append(Notice("Invariants violated", problems[:50]))
    blocks.append(Table(["architecture", "repeat", "step", "bookings checked", "1", "2", "3", "4",
                         "5", "quiescent after"], rows))
    if any(_kind(row[0]) == "single" for row in rows):
        blocks.append(Paragraph(footnote))
    return blocks


def _counts(report: dict[str, Any]) -> list[str]:
    counts = {inv["number"]: inv["violation_count"] for inv in report["invariants"]}
    cells = [str(counts.get(n, DASH)) for n in range(1, 6)]
    if _kind(report["architecture"]) == "single" and not counts.get(5):
        cells[4] = "n/a"
    return cells


def _quiet(quiescence: dict[str, Any]) -> str:
    if quiescence.get("quiescent"):
        return f"{quiescence['waited_s']:.1f} s"
    return "not quiescent" if quiescence.get("quiescent") is False else DASH


def fault_timeline(run_dir: Path, runs: list[dict[str, Any]], archs: list[str],
                   path: Path) -> Path | None:
    """One panel per architecture: failures and p99 per second through the run, faults shaded."""
    panels = []
    for arch in archs:
        run = next((r for r in runs if r["architecture"] == arch), None)
        requests = read_requests(run_dir / run["path"] / "load" / "requests.csv") if run else []
        if run and requests:
            panels.append((arch, run, requests))
    if not panels:
        return None
    fig = figure(10, 2.6 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, (arch, run, requests) in zip(axes, panels, strict=True):
        origin = run.get("origin_epoch") or min(at for at, *_ in requests)
        seconds = max(1, int(max(at for at, *_ in requests) - origin) + 1)
        failed = [0] * seconds
        latencies: list[list[float]] = [[] for _ in range(seconds)]
        for at, op, error, latency in requests:
            second = min(seconds - 1, max(0, int(at - origin)))
            if error:
                failed[second] += 1
            elif op != "book_e2e":  # as in "p99 back": a booking's wait for its outcome apart
                latencies[second].append(latency)
        ax.bar(range(seconds), failed, width=1.0, align="edge", color="C3", alpha=0.7,
               label="failed requests / s")
        ax.set_ylabel(f"{arch}\nfailed / s")
        twin = ax.twinx()
        per_second = [p99(v) if v else float("nan") for v in latencies]
        twin.plot([s + 0.5 for s in range(seconds)], per_second, color="C0", linewidth=1,
                  label="p99 of successes (ms)")
        twin.set_yscale("log")
        twin.set_ylabel("p99 (ms)")
        for fault in run["faults"]:
            if not fault.get("injected"):
                continue
            begin = fault["started_s"] if fault.get("started_s") is not None else fault["at_s"]
            end = begin + (fault["held_s"] or 0.2)
            ax.axvspan(begin, max(end, begin + 0.2), color="0.6", alpha=0.3)
            ax.text(begin, 1.0, f" {fault['action']} {fault['target']}", rotation=90,
                    transform=ax.get_xaxis_transform(), fontsize="x-small", va="top")
    axes[-1].set_xlabel("seconds since the load started (warm-up included)")
    path.parent.mkdir(parents=True, exist_ok=True)
    return save(fig, path)


def _kind(architecture: str) -> str | None:
    """How the architecture is deployed (the registry's kind); None for one it does not know."""
    spec = find(architecture)
    return spec.kind if spec is not None else None
