"""Run the whole audit and write it: `audit.json` (every number) and a dependency-graph picture
with one panel per architecture.

The static part needs nothing running. The live part deploys each architecture once more, reads
its real schemas and connections, counts what each operation costs in messages, hops and bytes
(harness/audit/runtime_probe.py), and stops each component in turn to fill the availability
matrix (harness/audit/availability.py). What the audit concludes from those measurements (runtime
coupling, availability summary, checklist) can be derived again later, by a newer version, from
the measurements stored in audit.json (`rederive`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grimp
import networkx as nx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.audit.derive import availability_summary, checklist, runtime_coupling
from harness.audit.static import (
    GATEWAY,
    PAYMENT_PROVIDER,
    architectures,
    build_graph,
    contract_coupling,
    data_coupling,
    import_coupling,
)
from harness.config.architectures import names, spec_of
from harness.config.errors import HarnessError
from harness.config.scenario import Scenario
from harness.results import provenance
from harness.results.audit_files import AUDIT_FILE, DEPENDENCIES_PICTURE, load_audit
from harness.results.files import write_atomic


def run_audit(out: Path, scenario: Scenario, *, live: bool | Collection[str] = True,
              samples: int = 10, step: Callable[[str], None] = lambda _: None,
              reused: Mapping[str, dict[str, Any]] | None = None,
              origins: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Audit every registered architecture into `out` (created; must not hold an audit already).

    `live`: deploy every architecture (True), none, or those named. `reused`: live measurements
    an earlier run took, per architecture, used as they are. `origins`: where each
    architecture's live measurements come from, recorded as `live_origins` (by default: measured
    here, or not asked for)."""
    if (out / AUDIT_FILE).exists():
        raise HarnessError(f"{out / AUDIT_FILE} already exists; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    measured: dict[str, dict[str, Any]] = dict(reused or {})
    wanted = [a for a in names() if a not in measured
              and (live is True or (not isinstance(live, bool) and a in live))]
    if wanted:
        from harness.audit.live import live_audit  # deploys: only when asked

        for i, arch in enumerate(wanted, 1):
            def arch_step(text: str, arch: str = arch, i: int = i) -> None:
                step(f"{arch} ({i}/{len(wanted)}): {text}")

            arch_step("deploying, probing each operation, stopping each component")
            measured[arch] = live_audit(arch, scenario, out / "deployments" / arch,
                                        samples=samples, step=arch_step)
    step("reading imports, SQL and manifests")
    known = dict(origins or {})
    result = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "revision": provenance.revision(), "scenario": scenario.name, "live": bool(measured),
              "live_origins": {a: known.get(a) or {"source": "measured" if a in measured
                                                   else "off"} for a in names()},
              "architectures": derive_all(measured)}
    _write(result, out)
    return result


def derive_all(measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The static audit of the code as it is now, and what it concludes from `measured` (the
    live measurements per architecture, possibly none)."""
    graph: grimp.ImportGraph = build_graph()
    out: dict[str, Any] = {}
    for name, arch in architectures().items():
        live = measured.get(name)
        schemas = {db: info["tables"] for db, info in live["schemas"].items()} if live else None
        static = {"imports": import_coupling(arch, graph),
                  "data": data_coupling(arch, graph, schemas=schemas,
                                        clients=live["database_clients"] if live else None),
                  "contracts": contract_coupling(arch, graph)}
        entry: dict[str, Any] = {"static": static}
        if live:
            entry["live"] = live
            entry["runtime"] = runtime_coupling(static, live["runtime"])
            entry["availability"] = availability_summary(static, live["availability"], name)
        entry["checklist"] = checklist(static, live, name)
        out[name] = entry
    return out


def rederive(folder: Path, by: str = "archbench scorecard") -> dict[str, Any] | None:
    """Redo the static audit and every conclusion of the audit in `folder` with this version's
    rules, keeping its live measurements; None when there is no audit there. The audit records
    the revision that derived it, and the run folder around it (if any) that `by` rewrote it."""
    audit = load_audit(folder)
    if audit is None:
        return None
    measured = {arch: entry["live"] for arch, entry in audit["architectures"].items()
                if "live" in entry}
    audit["architectures"] = derive_all(measured)
    audit["derived_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    audit["derived_by_revision"] = provenance.revision()
    _write(audit, folder)
    root = folder.parent if (folder.parent / "run.json").is_file() else folder
    provenance.record(root, [folder / AUDIT_FILE, folder / DEPENDENCIES_PICTURE], by)
    return audit


def _write(result: dict[str, Any], out: Path) -> None:
    draw_dependencies(result, out)
    write_atomic(out / AUDIT_FILE, json.dumps(result, indent=2))


def draw_dependencies(result: dict[str, Any], out: Path) -> None:
    """One panel per architecture: gateway, deployables and payment provider; solid arrows are
    synchronous calls, dashed arrows are events (producer to consumer, with their count)."""
    archs = list(result["architectures"])
    fig = Figure(figsize=(5.5 * len(archs), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, arch in zip(fig.subplots(1, len(archs), squeeze=False)[0], archs, strict=True):
        _draw_panel(ax, arch, result["architectures"][arch]["static"]["contracts"])
    tmp = out / f"{DEPENDENCIES_PICTURE}.tmp.png"
    fig.savefig(tmp, dpi=100)
    tmp.replace(out / DEPENDENCIES_PICTURE)


def _draw_panel(ax: Any, arch: str, contracts: dict[str, Any]) -> None:
    graph = nx.DiGraph()
    layer = {GATEWAY: 0, PAYMENT_PROVIDER: 3}
    for node in contracts["nodes"]:
        layer.setdefault(node["name"], 1 if node["routes"] else 2)
    for name, level in layer.items():
        graph.add_node(name, layer=level)
    sync = [(e["from"], e["to"]) for e in contracts["gateway_edges"] + contracts["edges"]
            if e["kind"] == "sync"]
    events = {(e["to"], e["from"]): len(e["via"].split(", "))
              for e in contracts["edges"] if e["kind"] == "async"}
    graph.add_edges_from(sync)
    graph.add_edges_from(events)
    pos = nx.multipartite_layout(graph, subset_key="layer", align="horizontal", scale=2)
    pos = {n: (x, -y) for n, (x, y) in pos.items()}
    colors = ["#dddddd" if n in (GATEWAY, PAYMENT_PROVIDER) else
              ("#aec7e8" if spec_of(arch).kind == "single" else "#ff9896") for n in graph.nodes]
    size = 2300
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=size, node_color=colors,
                           edgecolors="#555555")
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8,
                            labels={n: n.replace("_", "\n") for n in graph.nodes})
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=sync, arrowsize=14, node_size=size,
                           width=1.6)
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=list(events), style="dashed",
                           arrowsize=12, node_size=size, edge_color="#b22222",
                           connectionstyle="arc3,rad=0.12")
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, edge_labels=events, font_size=7,
                                 font_color="#b22222", connectionstyle="arc3,rad=0.12")
    ax.set_title(arch, fontsize=10)
    ax.axis("off")
    ax.margins(0.15)
