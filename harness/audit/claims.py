"""The claims file (claims.yaml, or the user's copy): each claim of the debate, the kind of evidence
that can settle it here, and the metrics that carry it; validated so that an unknown key or a bad
value is an error naming its path."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.audit.evidence import METRICS
from harness.config.errors import HarnessError
from harness.config.loading import read_yaml

# "A < B": the claim holds if the metric is lower for architecture A than for B
_HOLDS_IF = re.compile(r"^\s*([a-z][a-z0-9_-]*)\s*([<>])\s*([a-z][a-z0-9_-]*)\s*$")
NOT_MEASURABLE = "not measurable here"
ClaimEvidence = Literal["structural", "measured", "not measurable here"]


def compared(holds_if: str) -> tuple[str, str, bool]:
    """The two architectures of `A < B` or `A > B`, and whether the claim wants A lower."""
    match = _HOLDS_IF.match(holds_if)
    if match is None:
        raise ValueError(f"expected 'A < B' or 'A > B' with two architectures, not {holds_if!r}")
    first, op, second = match.groups()
    return first, second, op == "<"


def direction(holds_if: str) -> tuple[str, str]:
    """(the architecture the claim wants lower, the one it wants higher)."""
    first, second, lower = compared(holds_if)
    return (first, second) if lower else (second, first)


class _Names(BaseModel):
    """How one side states a claim: who argues it, pro or con, and what it predicts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1)
    holds_if: str  # before `side`, which is checked against it
    side: str
    kind: Literal["pro", "con"]

    @field_validator("holds_if")
    @classmethod
    def _two_architectures(cls, value: str) -> str:
        first, second, _ = compared(value)
        if first == second:
            raise ValueError(f"compares {first} with itself")
        return value

    @field_validator("side")
    @classmethod
    def _one_of_them(cls, value: str, info: ValidationInfo) -> str:
        if "holds_if" in info.data:  # absent when holds_if itself is invalid
            first, second, _ = compared(info.data["holds_if"])
            if value not in (first, second):
                raise ValueError(f"{value!r} is neither {first} nor {second} (holds_if)")
        return value

    @property
    def architectures(self) -> tuple[str, str]:
        first, second, _ = compared(self.holds_if)
        return first, second


class Mirror(_Names):
    """The same comparison as the other side states it: a monolith pro that is a microservices con
    (holds_if the same way), or the other side's opposite claim (holds_if the other way). It is
    judged with the claim, never on its own: one measurement, one verdict."""


class Claim(_Names):
    """A claim compares two architectures, named in `holds_if`; `side` is the one arguing it.

    evidence: structural (true of the codebases whatever the run: listed, never scored; says
    `made_so_by`), measured (depends on the run: judged with intervals against `min_effect`), or
    not measurable here (no metric; says what `would_measure` it). Left out, it is the kind of
    every metric the claim names."""

    evidence: ClaimEvidence | None = None
    metrics: list[str] = Field(default_factory=list)
    min_effect: float | None = Field(None, ge=0, lt=1)
    why: str = ""
    reference: str = ""
    made_so_by: str = ""
    would_measure: str = ""
    mirror: Mirror | None = None

    @model_validator(mode="after")
    def _evidence_fits(self) -> Self:
        kinds = {METRICS[m][1] for m in self.metrics if m in METRICS}
        if self.evidence is None and len(kinds) > 1:
            raise ValueError("its metrics are structural and measured: declare `evidence`, or "
                             "split it into a structural and a measured claim")
        evidence = self.kind_of_evidence
        if evidence == NOT_MEASURABLE:
            if self.metrics:
                raise ValueError("a claim not measurable here names no metric")
            if not self.would_measure:
                raise ValueError("a claim not measurable here says what `would_measure` it")
        elif not self.metrics:
            raise ValueError(f"a {evidence} claim names its metrics")
        elif kinds - {evidence}:  # (an unknown metric is load_claims' error to report)
            wrong = [m for m in self.metrics if m in METRICS and METRICS[m][1] != evidence]
            raise ValueError(f"declared {evidence}, but {', '.join(wrong)} "
                             f"{'is' if len(wrong) == 1 else 'are'} not")
        if self.mirror is not None and set(self.mirror.architectures) != set(self.architectures):
            raise ValueError("its mirror compares other architectures")
        return self

    @property
    def kind_of_evidence(self) -> str:
        """As declared, or else the kind of every metric it names."""
        if self.evidence is not None:
            return self.evidence
        kinds = {METRICS[m][1] for m in self.metrics if m in METRICS}
        return kinds.pop() if len(kinds) == 1 else NOT_MEASURABLE

    @property
    def mirror_agrees(self) -> bool:
        """Whether the mirror holds when the claim holds (else it holds when the claim fails)."""
        return self.mirror is not None and direction(self.mirror.holds_if) == direction(self.holds_if)

    @property
    def effect(self) -> float:
        """The smallest relative difference that counts (5% unless the claim states one)."""
        return 0.05 if self.min_effect is None else self.min_effect

    @property
    def names(self) -> list[_Names]:
        return [self, *([self.mirror] if self.mirror else [])]


class Claims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claims: list[Claim] = Field(min_length=1)


def default_claims_path() -> Path:
    return Path(str(resources.files("harness.audit").joinpath("claims.yaml")))


def load_claims(path: Path | None = None) -> list[Claim]:
    """The claims file, validated: an unknown key or a bad value names its path."""
    path = path or default_claims_path()
    raw = read_yaml(path, "claims file")
    if isinstance(raw, dict):  # unknown metrics first: the evidence checks read the catalogue
        for i, claim in enumerate(raw.get("claims") or []):
            metrics = claim.get("metrics") if isinstance(claim, dict) else None
            for j, name in enumerate(metrics if isinstance(metrics, list) else []):
                if name not in METRICS:
                    raise HarnessError(f"{path}: claims.{i}.metrics.{j}: unknown metric {name!r}; "
                                       f"known: {', '.join(sorted(METRICS))}")
    try:
        return Claims.model_validate(raw).claims
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = ("unknown key" if err["type"] == "extra_forbidden"
                   else err["msg"].removeprefix("Value error, "))
        raise HarnessError(f"{path}: {where}: {message}") from None
