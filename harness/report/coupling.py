"""The report's Coupling and Audit sections, from `audit/audit.json` of a run folder (or
`audit.json` of an `archbench audit` folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.artifacts import failure, read_json
from harness.report.render import Block, Bullets, Heading, Image, Notice, Paragraph, Table
from harness.results.audit_files import AUDIT_FILE, DEPENDENCIES_PICTURE, violations
from harness.results.origins import grouped

MARK = {True: "✓", False: "✗", None: "n/a"}


def coupling_blocks(audit_dir: Path) -> list[Block]:
    """Coupling (static, data, contracts, runtime, availability) and the service checklist."""
    failed = failure(audit_dir, "Coupling", "audit")
    if failed:
        return failed
    audit, unreadable = read_json(audit_dir / AUDIT_FILE, "Coupling", AUDIT_FILE)
    if audit is None:
        return unreadable
    # every architecture the audit holds, in its order (the registry's)
    entries = dict(audit["architectures"])
    archs = list(entries)
    blocks: list[Block] = [Heading("Coupling")]
    blocks.append(Paragraph(_summary(entries)))
    found = violations(audit)
    if found:
        blocks.append(Notice("The microservices are coupled through their data", found))
    blocks.append(Table(["", *archs], _static_rows(entries)))
    picture = audit_dir / DEPENDENCIES_PICTURE
    if picture.is_file():
        blocks.append(Image(picture, "Who depends on whom: solid arrows are synchronous calls, "
                                     "dashed arrows events from producer to consumer (with the "
                                     "number of event types)"))
    blocks += _components(entries)
    blocks += _events(entries)
    origins = audit.get("live_origins")
    if origins:
        blocks.append(Paragraph("Live audit (runtime and availability): " + "; ".join(
            grouped([(f"**{arch}**", origin) for arch, origin in origins.items()])) + "."))
    if all("runtime" in e for e in entries.values()):
        blocks += _runtime(entries)
    if all("availability" in e for e in entries.values()):
        blocks += _availability(entries)
    elif not origins:
        blocks.append(Paragraph("Runtime and availability coupling were not measured: the audit "
                                "ran without deploying (`audit.live: false` or `--no-live`)."))
    blocks += _checklist(entries)
    return blocks


def _summary(entries: dict[str, dict[str, Any]]) -> str:
    parts = []
    for arch, entry in entries.items():
        imports, data = entry["static"]["imports"], entry["static"]["data"]
        text = (f"**{arch}**: {len(imports['deployables'])} deployable(s), "
                f"{len(imports['cross_context_imports'])} cross-context imports, "
                f"{len(data['shared_tables'])} shared tables, "
                f"{len(data['cross_database'])} cross-database accesses")
        if "availability" in entry:
            text += (f", a stopped component breaks {entry['availability']['mean_blast_radius']:.0%}"
                     " of operations on average")
        parts.append(text)
    return "; ".join(parts) + "."


def _static_rows(entries: dict[str, dict[str, Any]]) -> list[list[str]]:
    def row(label: str, get: Any) -> list[str]:
        return [label, *(str(get(e)) for e in entries.values())]

    def largest(entry: dict[str, Any]) -> str:
        top = entry["static"]["imports"]["largest_deployable"]
        return f"{top['name']}: {top['own_lines']} own / {top['lines']} loaded"

    def tables(entry: dict[str, Any]) -> str:
        data = entry["static"]["data"]
        return f"{sum(len(d['declared']) for d in data['deployables'].values())} ({data['source']})"

    return [
        row("deployables", lambda e: len(e["static"]["imports"]["deployables"])),
        row("modules loaded / import edges", lambda e: f"{e['static']['imports']['module_count']}"
            f" / {e['static']['imports']['import_edges']}"),
        row("import-graph density", lambda e: e["static"]["imports"]["density"]),
        row("cross-context imports", lambda e: len(e["static"]["imports"]["cross_context_imports"])),
        row("import cycles", lambda e: len(e["static"]["imports"]["cycles"])),
        row("largest deployable (code lines)", largest),
        row("cross-cutting lines, all deployables",
            lambda e: sum(d["cross_cutting_lines"] for d in e["static"]["imports"]["deployables"])),
        row("shared tables", lambda e: _shared(e["static"]["data"]["shared_tables"])),
        row("cross-database accesses", lambda e: len(e["static"]["data"]["cross_database"])),
        row("sync / async dependency edges", lambda e: f"{e['static']['contracts']['sync_edges']}"
            f" / {e['static']['contracts']['async_edges']}"),
        row("service coupling factor", lambda e: e["static"]["contracts"]["scf"]),
        row("tables (source)", tables),
    ]


def _shared(shared: list[dict[str, Any]]) -> str:
    if not shared:
        return "0"
    return f"{len(shared)}: " + ", ".join(f"{s['table']} ({'+'.join(s['users'])})" for s in shared)


def _components(entries: dict[str, dict[str, Any]]) -> list[Block]:
    rows = []
    for arch, entry in entries.items():
        for c in entry["static"]["imports"]["components"]:
            rows.append([arch, c["name"], c["kind"], str(c["modules"]), str(c["lines"]),
                         str(c["ca"]), str(c["ce"]),
                         "n/a" if c["instability"] is None else f"{c['instability']:.2f}"])
    return [Heading("Components: afferent (Ca) and efferent (Ce) coupling, instability", 3),
            Table(["architecture", "component", "kind", "modules", "lines", "Ca", "Ce", "I"], rows)]


def _events(entries: dict[str, dict[str, Any]]) -> list[Block]:
    rows = []
    for arch, entry in entries.items():
        for n in entry["static"]["contracts"]["nodes"]:
            rows.append([arch, n["name"], str(len(n["routes"])), str(n["emits"]),
                         str(n["consumes"]), str(n["ais"]), str(n["ads"])])
    events = [[e["type"].rsplit(".", 1)[-1], e["producer"], ", ".join(e["consumers"])]
              for entry in entries.values() for e in entry["static"]["contracts"]["events"]]
    blocks: list[Block] = [
        Heading("Contracts: routes, events, importance (AIS) and dependence (ADS)", 3),
        Table(["architecture", "deployable", "routes", "event types emitted", "consumed", "AIS",
               "ADS"], rows)]
    if events:
        blocks.append(Table(["event", "producer", "consumers"], events))
    return blocks


def _runtime(entries: dict[str, dict[str, Any]]) -> list[Block]:
    rows = []
    for op in ("book", "cancel", "search", "get_booking", "list_hotels"):
        for arch, entry in entries.items():
            r = entry["runtime"].get(op)
            if r is None:
                continue
            path = " → ".join(r["sync_chain"])
            if r["sync_calls"]:
                path += f" → ({', then '.join(r['sync_calls'])})"
            rows.append([op, arch, f"{r['messages']:g}", f"{r['hops']:g}",
                         f"{r['client_polls']:g}", f"{r['bytes']:,}", f"{r['db_transactions']:g}",
                         str(r["databases_touched"]), f"{r['provider_calls']:g}", path])
    return [Heading("Runtime coupling per operation", 3),
            Table(["operation", "architecture", "messages", "hops", "polls", "bytes",
                   "DB transactions", "databases", "provider calls", "synchronous path"], rows),
            Paragraph("Per operation, counted on a live deployment by the audit's probe (its own "
                      "requests, one at a time, not the benchmark's load). Messages: events "
                      "published plus deliveries. Hops: HTTP and broker messages between "
                      "processes, polls apart. Bytes: HTTP bodies, polls included, plus broker "
                      "bytes in and out. The synchronous path ends with what the route's owner "
                      "calls, one after the other, while the client waits.")]


def _availability(entries: dict[str, dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = [Heading("Availability: which operations work while one component is "
                                   "stopped", 3)]
    for arch, entry in entries.items():
        matrix = entry["live"]["availability"]
        ops = matrix["operations"]
        rows = [[down, *(MARK[matrix["matrix"][down][op]["ok"]] for op in ops),
                 f"{entry['availability']['components'][down]['blast_radius']:.0%}"]
                for down in matrix["deployables"]]
        blocks.append(Table([f"{arch}: stopped", *ops, "blast radius"], rows))
        unexplained = entry["availability"]["unexplained"]
        if unexplained:
            blocks.append(Notice(f"{arch}: failures no declared dependency explains",
                                 [f"{u['operation']} while {u['down']} is stopped"
                                  for u in unexplained]))
    return blocks


def _checklist(entries: dict[str, dict[str, Any]]) -> list[Block]:
    """One row per deployable, one column per check; the evidence of every check that did not
    pass below (all of it is in audit.json)."""
    checks = list(dict.fromkeys(c["check"] for e in entries.values() for c in e["checklist"]))
    rows, notes = [], []
    for arch, entry in entries.items():
        by_name: dict[str, dict[str, Any]] = {}
        for c in entry["checklist"]:
            by_name.setdefault(c["deployable"], {})[c["check"]] = c
        for name, results in by_name.items():
            rows.append([arch, name, *(MARK[results[check]["passed"]] for check in checks)])
            notes += [f"{name}, {check}: {results[check]['evidence']}" for check in checks
                      if results[check]["passed"] is False]
    blocks: list[Block] = [Heading("Audit: the well-designed-service checklist", 3),
                           Table(["architecture", "deployable", *checks], rows)]
    if notes:
        blocks.append(Bullets(notes))
    return blocks
