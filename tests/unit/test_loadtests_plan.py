"""The load plan the harness writes: accepted when sound, refused naming the key when not."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from loadtests.cli import main
from loadtests.plan import PlanError, parse_plan

FULL_PLAN: dict[str, Any] = {
    "model": "open", "rate": 20.0, "arrival": "poisson", "users": 10, "think_time_s": [0.5, 1.5],
    "duration_s": 30, "warmup_s": 5, "window_s": 5,
    "weights": {"search_availability": 50, "list_hotels": 10, "book": 20, "view_booking": 10,
                "list_customer_bookings": 5, "cancel": 5},
    "seed": 0, "poll_interval_s": 0.005, "max_concurrency": 500,
    "dataset": {"hotels": 20, "room_types_per_hotel": 3, "start_date": "2027-01-01", "horizon_days": 60},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**FULL_PLAN, **changes}


def test_the_documented_plan_is_accepted_as_written() -> None:
    plan = parse_plan(FULL_PLAN)
    assert plan.model == "open" and plan.rate == 20.0 and plan.think_time_s == (0.5, 1.5)
    assert plan.measured_s == 25
    assert plan.dataset.start_date == dt.date(2027, 1, 1) and plan.dataset.horizon_days == 60
    assert plan.weights["search_availability"] == 50


def test_a_closed_plan_needs_only_its_model_and_takes_defaults_for_the_rest() -> None:
    plan = parse_plan({"model": "closed"})
    assert plan.users == 10 and plan.duration_s == 30 and plan.dataset.hotels == 20


def test_a_scenario_dataset_with_units_per_room_type_passes_through() -> None:
    plan = parse_plan(_with(dataset={**FULL_PLAN["dataset"], "units_per_room_type": 3}))
    assert plan.dataset.units_per_room_type == 3


@pytest.mark.parametrize(("plan", "key"), [
    (_with(rates=20), "rates"),
    (_with(dataset={**FULL_PLAN["dataset"], "cities": 3}), "dataset.cities"),
    (_with(rate=-1.0), "rate"),
    (_with(rate="fast"), "rate"),
    (_with(rate=True), "rate"),
    (_with(model="ramp"), "model"),
    ({"rate": 5}, "model"),
    (_with(arrival="bursty"), "arrival"),
    (_with(users=2.5), "users"),
    (_with(model="closed", users=0), "users"),
    (_with(think_time_s=[2, 1]), "think_time_s"),
    (_with(duration_s=0), "duration_s"),
    (_with(warmup_s=30), "warmup_s"),
    (_with(window_s=0), "window_s"),
    (_with(weights={"checkout": 1}), "weights.checkout"),
    (_with(weights={"book": -1}), "weights.book"),
    (_with(weights={"book": 0}), "weights"),
    (_with(weights=[1, 2]), "weights"),
    (_with(seed=-1), "seed"),
    (_with(poll_interval_s=0), "poll_interval_s"),
    (_with(max_concurrency=0), "max_concurrency"),
    (_with(dataset={**FULL_PLAN["dataset"], "start_date": "01/01/2027"}), "dataset.start_date"),
    (_with(dataset={**FULL_PLAN["dataset"], "hotels": 0}), "dataset.hotels"),
    ([1, 2], "plan"),
])
def test_a_bad_plan_is_refused_naming_the_key(plan: Any, key: str) -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan(plan)
    assert refused.value.key == key
    assert str(refused.value).startswith(f"{key}: ")


def test_the_command_exits_2_with_one_line_naming_the_bad_key(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(_with(weights={"checkout": 1})))
    code = main(["--host", "http://127.0.0.1:1", "--plan", str(plan_file), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "weights.checkout" in err
    assert not (tmp_path / "out").exists()


def test_an_unreadable_plan_or_a_bad_host_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.json").write_text("{")
    assert main(["--host", "http://127.0.0.1:1", "--plan", str(tmp_path / "broken.json"),
                 "--out", str(tmp_path)]) == 2
    assert main(["--host", "127.0.0.1:1", "--plan", str(tmp_path / "broken.json"),
                 "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 2
