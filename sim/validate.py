"""The calibrated models against the measured runs they were calibrated from: at every measured
load step, predicted vs measured p50, p99 and throughput with the relative error, and the
predicted vs measured saturation rate.

Goals (issue 5): |error| <= 10% at p50 and <= 20% at p99 for steps below 80% of the measured
saturation rate, and the predicted saturation rate within 15% of the measured one. The table marks
each row `calibration` (the lowest load: residuals were fitted there, so it agrees by
construction), `predicted` (inside the goal's range) or `beyond 80%` (reported, not judged).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import pandas as pd

from harness.config.architectures import names
from harness.config.scenario import Scenario
from sim.parallel import parallel_map
from sim.params import Calibration
from sim.study import aggregate, meets, replicate, run_jobs, saturation

P50_GOAL = 0.10
P99_GOAL = 0.20
SATURATION_GOAL = 0.15
JUDGED_BELOW = 0.80
OPERATIONS = ("book_e2e", "search_availability", "book", "view_booking", "list_hotels", "cancel",
              "list_customer_bookings")


@dataclass(frozen=True)
class MeasuredSaturation:
    """What a sweep measured: the highest offered rate that met the SLO (None if none did) and,
    per step, (offered rate, met the SLO)."""

    rate: float | None
    steps: list[tuple[float, bool]]


@dataclass
class Validation:
    table: pd.DataFrame  # one row per architecture x step x operation
    saturation: pd.DataFrame  # one row per architecture
    simulated: pd.DataFrame  # the predictions (aggregate across replications)


def validate(measured: pd.DataFrame, sat_measured: dict[str, MeasuredSaturation],
             calibration: Calibration, scenario: Scenario, processes: int | None = None,
             with_saturation: bool = True) -> Validation:
    """`measured`: the run's aggregate table (one row per architecture x step x operation);
    `sat_measured`: each architecture's measured saturation, empty unless a sweep measured it."""
    if measured.empty:
        return Validation(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    architectures = [a for a in names() if a in set(measured["architecture"])]
    level_column = "offered_rate" if scenario.load.model == "open" else "users"
    jobs = []
    for arch in architectures:
        mine = measured[measured["architecture"] == arch]
        levels = sorted({float(v) for v in _levels(mine, level_column, scenario)})
        jobs += replicate(scenario, calibration, [arch], levels)
    predicted = aggregate(run_jobs(jobs, processes))

    searched = with_saturation and scenario.load.model == "open"
    starts = {arch: float(predicted[predicted["architecture"] == arch]["level"].min())
              for arch in architectures}
    # one search per architecture, side by side; each search's probes run in its own process
    found_rates = dict(zip(architectures, parallel_map(
        _search, [(scenario, calibration, arch, starts[arch]) for arch in architectures], processes),
        strict=True)) if searched else {}
    sat_rows = []
    for arch in architectures:
        found = sat_measured.get(arch)
        measured_rate = found.rate if found else None
        failing = [offered for offered, met in (found.steps if found else [])
                   if not met and (measured_rate is None or offered > measured_rate)]
        first_fail = min(failing) if failing else None
        mine = predicted[predicted["architecture"] == arch].sort_values("level")
        on_grid = [float(r["level"]) for _, r in mine.iterrows() if meets(r, scenario)]
        predicted_rate = found_rates.get(arch)
        # judged only when the sweep brackets saturation (a step met the SLO, a higher one failed)
        within: bool | None = None
        if predicted_rate is not None and measured_rate and first_fail:
            within = bool((1 - SATURATION_GOAL) * measured_rate <= predicted_rate
                          <= (1 + SATURATION_GOAL) * first_fail)
        if not sat_measured:
            state = "not evaluated (one load step, or a closed loop)"
        elif measured_rate is None:
            state = "no step met the SLO"
        elif first_fail is None:
            state = "every step met the SLO"
        else:
            state = "bracketed"
        sat_rows.append({
            "architecture": arch, "measured": state, "measured_rate": measured_rate,
            "measured_first_failing": first_fail,
            "predicted_rate": predicted_rate,
            "searched": searched,
            "predicted_on_grid": max(on_grid) if on_grid else None,
            "error_on_grid": (max(on_grid) / measured_rate - 1) if on_grid and measured_rate
            and first_fail else math.nan,
            "within_goal": within,
        })
    sat = pd.DataFrame(sat_rows)

    rows = []
    calibration_levels = (calibration.source or {}).get("calibration_level", {})
    for arch in architectures:
        mine = measured[measured["architecture"] == arch]
        mine_sat = next(r for r in sat_rows if r["architecture"] == arch)
        # rows at or past a measured failure are never judged; nor is anything when no step met it
        sat_rate = mine_sat["measured_rate"] if mine_sat["measured_first_failing"] else None
        nothing_met = mine_sat["measured"] == "no step met the SLO"
        for row in mine.itertuples():
            level = float(getattr(row, level_column)) if level_column == "offered_rate" \
                else float(_users(row, scenario))
            op = row.operation
            if op not in OPERATIONS:
                continue
            pred = predicted[(predicted["architecture"] == arch) & (predicted["level"] == level)]
            if pred.empty:
                continue
            p = pred.iloc[0]
            if level == calibration_levels.get(arch):
                role = "calibration"
            elif not nothing_met and (sat_rate is None or level <= JUDGED_BELOW * sat_rate):
                role = "predicted"
            else:
                role = "beyond 80%"
            measured_tp = float(row.achieved_rate)
            rows.append({
                "architecture": arch, "level": level, "operation": op, "role": role,
                "measured_p50_ms": float(row.p50_ms), "predicted_p50_ms": p[f"{op}_p50_ms"],
                "predicted_p50_ci_ms": p[f"{op}_p50_ms_ci"],
                "p50_error": _rel(p[f"{op}_p50_ms"], float(row.p50_ms)),
                "measured_p99_ms": float(row.p99_ms), "predicted_p99_ms": p[f"{op}_p99_ms"],
                "predicted_p99_ci_ms": p[f"{op}_p99_ms_ci"],
                "p99_error": _rel(p[f"{op}_p99_ms"], float(row.p99_ms)),
                "measured_throughput": measured_tp, "predicted_throughput": p["throughput"],
                "throughput_error": _rel(p["throughput"], measured_tp),
            })
    table = pd.DataFrame(rows)
    if not table.empty:
        judged = table["role"] == "predicted"
        table["p50_within_goal"] = judged & (table["p50_error"].abs() <= P50_GOAL)
        table["p99_within_goal"] = judged & (table["p99_error"].abs() <= P99_GOAL)
    return Validation(table, sat, predicted)


def _search(args: tuple[Scenario, Calibration, str, float]) -> float | None:
    scenario, calibration, arch, start = args
    return saturation(scenario, calibration, arch, start, processes=1)


def _levels(frame: pd.DataFrame, column: str, scenario: Scenario) -> list[float]:
    if column == "offered_rate":
        return [float(v) for v in frame["offered_rate"].dropna().unique()]
    return [float(v) for v in scenario.load.levels()]


def _users(row: object, scenario: Scenario) -> float:
    levels = scenario.load.levels()
    step = int(getattr(row, "step", 0))
    return float(levels[step]) if step < len(levels) else math.nan


def _rel(predicted: float, measured: float) -> float:
    if measured is None or math.isnan(measured) or measured == 0 or predicted is None \
            or math.isnan(predicted):
        return math.nan
    return predicted / measured - 1


def summary_lines(validation: Validation) -> list[str]:
    """Plain sentences for the report and the CLI."""
    lines = []
    table = validation.table
    if not table.empty:
        judged = table[table["role"] == "predicted"]
        for arch in table["architecture"].unique():
            if arch not in set(judged["architecture"]):
                lines.append(f"{arch}: no measured step lies between the calibration point and 80% of "
                             "the measured saturation rate, so no row is judged against the goals")
        for arch, group in judged.groupby("architecture", sort=False):
            p50 = group["p50_within_goal"].mean() if len(group) else math.nan
            p99 = group["p99_within_goal"].mean() if len(group) else math.nan
            errors50 = group["p50_error"].abs().dropna()
            lines.append(
                f"{arch}: {len(group)} predicted rows below 80% of saturation; p50 within ±10% in "
                f"{p50:.0%}, p99 within ±20% in {p99:.0%}; median |p50 error| "
                f"{statistics.median(errors50) if len(errors50) else math.nan:.1%}")
    for row in validation.saturation.to_dict("records"):
        rate = row.get("predicted_rate")
        if rate is None or pd.isna(rate):
            predicted = "none found" if row.get("searched") else "not searched"
        else:
            predicted = f"{rate:.0f} req/s"
        if row.get("measured") == "bracketed":
            low, high = row["measured_rate"], row["measured_first_failing"]
            spread = (high - low) / (high + low)
            judged = row.get("within_goal")
            verdict = "not judged against" if judged is None or pd.isna(judged) else (
                "within" if judged else "outside")
            lines.append(
                f"{row['architecture']}: saturation predicted {predicted}; measured between {low:g} "
                f"(met the SLO) and {high:g} req/s (failed), a bracket of ±{spread:.0%}: "
                f"{verdict} the ±15% goal (widened by that bracket)")
        else:
            lines.append(f"{row['architecture']}: saturation predicted {predicted}; measured: "
                         f"{row.get('measured')}")
    return lines
