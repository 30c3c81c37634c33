"""The report's Scorecard section, from `scorecard.json`: the measured verdicts (the only ones
counted), the structural facts with what makes them so, and the claims not measurable here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.artifacts import read_json
from harness.report.render import Block, Bullets, Heading, Paragraph, Table
from harness.results.spread import DASH


def scorecard_blocks(run_dir: Path) -> list[Block]:
    card, unreadable = read_json(run_dir / "scorecard.json", "Scorecard", "scorecard.json")
    if card is None:
        return unreadable
    if "headline" not in card:  # written before claims had kinds of evidence: judge it again
        return [Heading("Scorecard"), Paragraph(
            "This scorecard.json predates the separation of structural facts from measured "
            "verdicts; `archbench scorecard RUN_DIR` judges the run again.")]
    claims = card["claims"]
    pairs = list(dict.fromkeys(_compared(c) for c in claims))
    named = len(pairs) > 1  # several pairs: each cell names its architectures
    measured = [c for c in claims if c["evidence"] == "measured"]
    structural = [c for c in claims if c["evidence"] == "structural"]
    unmeasurable = [c for c in claims if c["evidence"] == "not measurable here"]
    blocks: list[Block] = [Heading("Scorecard"), Paragraph(_headline(card)),
                           Paragraph(_provenance(card))]
    if measured:
        blocks += [Heading("Measured on this run", 3), Table(
            ["claim", "verdict", "minimum effect", "why these metrics", _header(pairs)],
            [[_names(c), f"**{c['verdict']}**" + _mirror_verdicts(c), f"{c['min_effect']:.0%}",
              _why(c), _evidence(c, named)] for c in measured])]
    if structural:
        blocks += [Heading("Structural facts (true of the code whatever the run; not scored)", 3),
                   Table(["claim", "what the code shows", "made so by", _header(pairs)],
                         [[_names(c), c["verdict"], c["made_so_by"] or DASH,
                           "; ".join(_metric_cell(m, _compared(c), named) for m in c["metrics"])]
                          for c in structural])]
    if unmeasurable:
        blocks += [Heading("Not measurable here", 3),
                   Table(["claim", "why not", "what would measure it"],
                         [[_names(c), c["why"] or DASH, c["would_measure"]] for c in unmeasurable])]
    blocks.append(Bullets([
        "A measured metric differs significantly when the two architectures' intervals do not "
        "overlap (95% bootstrap intervals where aggregate.csv has them, else min-max ranges over "
        "repeats, so a single repeat is never significant) and the medians differ by at least the "
        "claim's minimum effect.",
        "A measured claim is supported when every significant metric goes its way, refuted when "
        "every one goes against it, not significant otherwise. A claim stated by both sides (a "
        "pro of one that is a con of the other, or opposite claims) is judged once.",
        f"Claims, metrics and their arguments come from `{Path(card['claims_file']).name}`; edit a "
        "copy and rerun `archbench scorecard RUN_DIR --claims FILE` to judge your own."]))
    return blocks


def _headline(card: dict[str, Any]) -> str:
    head = card["headline"]
    measured = head["measured"]
    total = sum(measured.values())
    counted = ", ".join(f"{n} {v}" for v, n in measured.items()) or "none"
    return (f"**Measured on this run**: {counted} (of {total} comparison"
            f"{'' if total == 1 else 's'} whose evidence depends on the run). "
            f"{head['structural']} structural fact{'' if head['structural'] == 1 else 's'} "
            "(true of the two codebases whatever the run) are listed, not scored; "
            f"{head['not measurable here']} claim{'' if head['not measurable here'] == 1 else 's'}"
            " not measurable here.")


def _provenance(card: dict[str, Any]) -> str:
    made = card.get("provenance") or {}
    text = (f"Judged by revision `{str(made.get('revision', 'unknown'))[:12]}` "
            f"({made.get('by', 'unknown')}, {made.get('written_at', 'unknown')})")
    if made.get("regenerated"):
        text += (f"; regenerated after the run, whose measurements revision "
                 f"`{str(made.get('run_revision', 'unknown'))[:12]}` made")
    return text + "."


def _header(pairs: list[tuple[str, str]]) -> str:
    return " vs ".join(pairs[0]) if len(pairs) == 1 else "architectures compared"


def _names(claim: dict[str, Any]) -> str:
    """"Fewer cross-cutting concerns (monolith pro) = Cross-cutting concerns in every service
    (microservices con)"; opposite claims are joined by "vs"."""
    first, *mirrors = claim["names"]
    text = f"{first['claim']} ({first['side']} {first['kind']})"
    for name in mirrors:
        text += (f" {'=' if _same(claim, name) else 'vs'} {name['claim']} "
                 f"({name['side']} {name['kind']})")
    return text


def _same(claim: dict[str, Any], name: dict[str, Any]) -> bool:
    return _direction(claim["holds_if"]) == _direction(name["holds_if"])


def _direction(holds_if: str) -> tuple[str, str]:
    lower, _, higher = holds_if.partition("<")
    if not higher:
        higher, _, lower = holds_if.partition(">")
    return lower.strip(), higher.strip()


def _mirror_verdicts(claim: dict[str, Any]) -> str:
    """The verdict of an opposite claim (a mirror stating the same thing shares the claim's)."""
    return "".join(f"; the {n['side']} {n['kind']}: {n['verdict']}" for n in claim["names"][1:]
                   if not _same(claim, n))


def _evidence(claim: dict[str, Any], named: bool) -> str:
    cells = "; ".join(_metric_cell(m, _compared(claim), named) for m in claim["metrics"])
    return cells if claim["verdict"] == "not evaluated" else f"{cells} — {claim['reason']}"


def _why(claim: dict[str, Any]) -> str:
    return claim["why"] + (f" ({claim['reference']})" if claim.get("reference") else "")


def _compared(claim: dict[str, Any]) -> tuple[str, str]:
    """The two architectures of a claim's `A < B` (or `A > B`)."""
    first, _, second = claim["holds_if"].replace(">", "<").partition("<")
    return first.strip(), second.strip()


def _metric_cell(metric: dict[str, Any], pair: tuple[str, str], named: bool) -> str:
    if any(a not in metric for a in pair):
        return f"{metric['metric']}: {metric['note']}"
    values = [(f"{a} " if named else "") + _value(metric[a]) for a in pair]
    return f"{metric['metric']} {' vs '.join(values)} ({metric['note']})"


def _value(value: dict[str, Any]) -> str:
    if value.get("interval", "exact") == "exact" or value["low"] == value["high"]:
        return _num(value["median"])
    return f"{_num(value['median'])} [{_num(value['low'])}{DASH}{_num(value['high'])}]"


def _num(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.3g}"
