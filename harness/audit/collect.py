"""Run the whole audit and write it: `audit.json` (every number), one dependency-graph picture per
architecture, and `audit.md` (the report section on its own).

The static part needs nothing running. The live part deploys each architecture once more, reads
its real schemas and connections, counts what each operation costs in messages, hops and bytes, and
stops each component in turn to fill the availability matrix (harness/audit/live.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.audit.derive import availability_summary, checklist, runtime_coupling
from harness.audit.static import (
    GATEWAY,
    PAYMENT_PROVIDER,
    architectures,
    build_graph,
    data_coupling,
    static_audit,
)
from harness.errors import HarnessError
from harness.scenario import Scenario

AUDIT_FILE = "audit.json"
ARCHITECTURES = ("monolith", "microservices")


def run_audit(out: Path, scenario: Scenario, *, live: bool = True, samples: int = 10,
              step: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Audit both architectures into `out` (created; must not hold an audit already)."""
    if (out / AUDIT_FILE).exists():
        raise HarnessError(f"{out / AUDIT_FILE} already exists; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    step("reading imports, SQL and manifests")
    static = static_audit()
    result: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": scenario.name, "live": live, "architectures": {},
    }
    graph = build_graph() if live else None
    declared = architectures()
    for arch in ARCHITECTURES:
        entry: dict[str, Any] = {"static": static[arch]}
        if live:
            from harness.audit.live import live_audit  # deploys: only when asked

            step(f"{arch}: deploying, probing each operation, stopping each component")
            measured = live_audit(arch, scenario, out / "deployments" / arch, samples=samples,
                                  step=step)
            shutil.rmtree(out / "deployments" / arch / "postgres", ignore_errors=True)
            entry["live"] = measured
            schemas = {db: info["tables"] for db, info in measured["schemas"].items()}
            entry["static"]["data"] = data_coupling(declared[arch], graph, schemas=schemas,
                                                    clients=measured["database_clients"])
            entry["runtime"] = runtime_coupling(entry["static"], measured["runtime"])
            entry["availability"] = availability_summary(entry["static"],
                                                         measured["availability"], arch)
        entry["checklist"] = checklist(entry["static"], entry.get("live"), arch)
        result["architectures"][arch] = entry
    draw_dependencies(result, out)
    tmp = out / (AUDIT_FILE + ".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out / AUDIT_FILE)
    return result


def load_audit(folder: Path) -> dict[str, Any] | None:
    """The audit in `folder`, None when there is none; a truncated file is an error."""
    path = folder / AUDIT_FILE
    if not path.exists():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path} is unreadable ({exc}); run the audit again") from None


DEPENDENCIES_PICTURE = "dependencies.png"


def draw_dependencies(result: dict[str, Any], out: Path) -> None:
    """One panel per architecture: gateway, deployables and payment provider; solid arrows are
    synchronous calls, dashed arrows are events (producer to consumer, with their count)."""
    archs = list(result["architectures"])
    fig = Figure(figsize=(5.5 * len(archs), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, arch in zip(fig.subplots(1, len(archs), squeeze=False)[0], archs, strict=True):
        _draw_panel(ax, arch, result["architectures"][arch]["static"]["contracts"])
    fig.savefig(out / DEPENDENCIES_PICTURE, dpi=100)


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
              ("#aec7e8" if arch == "monolith" else "#ff9896") for n in graph.nodes]
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
