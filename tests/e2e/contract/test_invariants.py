"""`archbench check` on the running deployment: after bookings that confirm, cancel and are
declined (and whatever else the suite and the OpenAPI fuzzer did to it before), every invariant
holds, counted from its databases and the payment provider's ledger."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from tests.support.deployments import ROOT, RunningUp, die_with_pytest

from .helpers import DECLINED_CARD, book_and_wait, cancel_and_wait, new_customer_id, take_slot

pytestmark = pytest.mark.e2e


def test_archbench_check_finds_every_invariant_holding_on_the_live_deployment(
        api: httpx.Client, deployment: RunningUp) -> None:
    slot = take_slot(api, nights=2)
    _, confirmed = book_and_wait(api, slot.body(new_customer_id()))
    _, to_cancel = book_and_wait(api, slot.body(new_customer_id()))
    _, declined = book_and_wait(api, slot.body(new_customer_id(), card_token=DECLINED_CARD))
    cancel_and_wait(api, to_cancel["booking_id"])
    assert (confirmed["status"], to_cancel["status"], declined["status"]) == (
        "confirmed", "confirmed", "rejected")

    result = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(deployment.workdir)], cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=die_with_pytest,
        env={**os.environ, **deployment.env, "COLUMNS": "200"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{deployment.architecture} checked" in result.stdout
    assert "all five invariants hold" in result.stdout
    counted = re.search(r"^bookings (\d+) \((.*)\)", result.stdout, re.MULTILINE)
    assert counted is not None, result.stdout
    assert int(counted[1]) >= 3
    assert "cancelled" in counted[2] and "rejected:payment_declined" in counted[2]
