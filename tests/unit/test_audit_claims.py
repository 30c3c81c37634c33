"""The shipped claims file (harness/audit/claims.yaml): every claim of the seed judged once, each
with its kind of evidence and its argument, and no measurement counted twice."""

from __future__ import annotations

from collections import Counter

import yaml

from harness.audit.claims import NOT_MEASURABLE, default_claims_path, direction, load_claims

# the seed's pros and cons (shared/seed), as claims.yaml names them: (side, kind, claim)
SEED = {
    ("monolith", "pro", "Fewer cross-cutting concerns"), ("monolith", "pro", "Less operational overhead"),
    ("monolith", "pro", "Easier testing"), ("monolith", "pro", "Better performance"),
    ("monolith", "con", "Overly tight coupling"), ("monolith", "con", "Harder to understand"),
    ("microservices", "pro", "Better organization"), ("microservices", "pro", "Decoupled"),
    ("microservices", "pro", "Better performance"), ("microservices", "pro", "Fewer mistakes"),
    ("microservices", "con", "Cross-cutting concerns in every service"),
    ("microservices", "con", "Higher operational overhead"),
}


def test_no_two_claims_use_a_metric_the_same_way() -> None:
    uses = Counter((metric, direction(c.holds_if)) for c in load_claims() for metric in c.metrics)
    assert [use for use, count in uses.items() if count > 1] == []


def test_no_metric_settles_two_claims_even_the_opposite_way() -> None:
    # opposite claims (both sides' "Better performance") are one comparison, with a mirror
    uses = Counter(metric for c in load_claims() for metric in c.metrics)
    assert [metric for metric, count in uses.items() if count > 1] == []


def test_every_claim_of_the_seed_is_judged_and_named_once() -> None:
    named = [(n.side, n.kind, n.claim) for c in load_claims() for n in c.names]
    assert set(named) == SEED
    # a claim with structural and measured evidence is two entries with the same names
    entries = Counter((c.side, c.kind, c.claim, c.kind_of_evidence) for c in load_claims())
    assert max(entries.values()) == 1


def test_every_shipped_claim_declares_its_evidence_and_argues_for_its_metrics() -> None:
    raw = yaml.safe_load(default_claims_path().read_text())["claims"]
    assert all("evidence" in claim for claim in raw), "declared, not inferred, in the shipped file"
    for claim in load_claims():
        assert claim.why, f"{claim.claim}: why its metrics measure it"
        if claim.kind_of_evidence == "structural":
            assert claim.made_so_by, f"{claim.claim}: the file or contract that makes it so"
        elif claim.kind_of_evidence == "measured":
            assert claim.min_effect is not None, f"{claim.claim}: its minimum effect, stated"
        else:
            assert claim.kind_of_evidence == NOT_MEASURABLE and claim.would_measure
