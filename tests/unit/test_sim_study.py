"""Cross-overs of a what-if and the validation's saturation sentences, on tables with known answers."""

from __future__ import annotations

import math

import pandas as pd

from sim.study import crossovers
from sim.validate import Validation, summary_lines


def _table(metric: str, monolith: list[float], microservices: list[float], half: float) -> pd.DataFrame:
    values = [1.0, 2.0, 3.0]
    return pd.DataFrame({
        "value": values * 2,
        "architecture": ["monolith"] * 3 + ["microservices"] * 3,
        metric: monolith + microservices,
        f"{metric}_ci": [half] * 6,
    })


def test_a_latency_crossover_is_found_where_the_difference_changes_sign() -> None:
    table = _table("p50", [10, 20, 30], [25, 22, 21], half=0.5)
    found = crossovers(table, "rtt", "p50")
    assert len(found) == 1
    assert "monolith is better below, microservices above" in found[0]
    assert "≈ 2.18 (between 2 and 3)" in found[0] and "not significant" not in found[0]


def test_for_saturation_higher_is_better() -> None:
    table = _table("saturation_rate", [100, 100, 100], [50, 90, 150], half=1.0)
    found = crossovers(table, "hosts", "saturation_rate")
    assert len(found) == 1 and "monolith is better below, microservices above" in found[0]


def test_a_sign_change_inside_the_confidence_intervals_is_not_significant() -> None:
    table = _table("p50", [10, 20, 30], [11, 19, 31], half=2.0)
    assert all("not significant" in s for s in crossovers(table, "rtt", "p50"))


def test_no_sign_change_no_crossover_and_labels_name_non_numeric_values() -> None:
    assert crossovers(_table("p50", [1, 2, 3], [5, 6, 7], 0.1), "x", "p50") == []
    table = _table("p50", [10, 30, 30], [20, 20, 20], half=0.1)
    found = crossovers(table, "payment", "p50", {1.0: "fixed:0.005", 2.0: "lognormal:0.005,0.5"})
    assert found and "between fixed:0.005 and lognormal:0.005,0.5" in found[0]


def _saturation(rows: list[dict]) -> Validation:
    return Validation(pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame())


def test_saturation_sentences_say_what_was_measured_and_never_print_nan() -> None:
    lines = summary_lines(_saturation([
        {"architecture": "monolith", "measured": "bracketed", "measured_rate": 400.0,
         "measured_first_failing": 600.0, "predicted_rate": 530.0, "searched": True, "within_goal": True},
        {"architecture": "microservices", "measured": "every step met the SLO", "measured_rate": 800.0,
         "measured_first_failing": math.nan, "predicted_rate": math.nan, "searched": True,
         "within_goal": None},
    ]))
    assert "monolith: saturation predicted 530 req/s; measured between 400" in lines[0]
    assert "within the ±15% goal" in lines[0] and "bracket of ±20%" in lines[0]
    assert lines[1] == ("microservices: saturation predicted none found; measured: every step met the SLO")
    assert not any("nan" in line for line in lines)


def test_an_unsearched_saturation_is_not_judged() -> None:
    lines = summary_lines(_saturation([
        {"architecture": "monolith", "measured": "bracketed", "measured_rate": 50.0,
         "measured_first_failing": 100.0, "predicted_rate": None, "searched": False, "within_goal": None},
    ]))
    assert "not searched" in lines[0] and "not judged against the ±15% goal" in lines[0]
