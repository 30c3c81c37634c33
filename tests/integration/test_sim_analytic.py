"""The simulation engine in worker processes: replications give the same numbers there as in this
process, and the engine lands inside the 95% confidence interval of ten replications of each textbook
case (run two at a time, the pure formulas are tested in tests/unit/test_sim_analytic.py)."""

from __future__ import annotations

import pytest

from sim.engine_validation import (
    CASES,
    ClosedCase,
    OpenCase,
    SharedCase,
    mmc_waiting_time,
    run_case,
    run_replications,
)

pytestmark = pytest.mark.integration


def _short_mm1(seed: int) -> float:
    return mmc_waiting_time(1, 0.5, 1.0, customers=500, warmup=50, seed=seed)


def test_replications_give_the_same_numbers_in_worker_processes() -> None:
    alone = run_replications(_short_mm1, replications=4, seed=3)
    assert run_replications(_short_mm1, replications=4, seed=3, workers=2) == alone
    assert len(set(alone)) == 4
    assert run_replications(_short_mm1, replications=4, seed=4) != alone


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_engine_lands_inside_the_95_percent_interval_of_ten_replications(
    case: OpenCase | SharedCase | ClosedCase,
) -> None:
    for row in run_case(case, replications=10, workers=2):
        metric = f"{row['case']} {row['metric']}"
        # an interval wider than 10% of the value would let a visibly wrong engine pass
        assert row["ci_half_width"] < 0.1 * row["analytic"], f"{metric}: interval too wide, {row}"
        assert row["inside_ci"], f"{metric}: analytic value outside the 95% interval, {row}"
