"""What the audit concludes from its measurements: runtime coupling per operation, the
well-designed-service checklist, and the availability summary.

Runtime coupling, per operation (counted by the live probe, see harness/audit/runtime_probe.py):
- messages: events published to the broker plus deliveries to consumers;
- hops: HTTP and broker messages between processes: client to gateway and gateway to app for each
  request (polls apart, they are counted as `client_polls`), app to payment provider, producer to
  broker, broker to consumer. Database round trips are counted apart, as transactions;
- bytes: HTTP bodies the client sent and received (polls included), plus bytes into and out of the
  broker;
- the synchronous path: client, gateway, the route's owner, and the dependencies the owner calls,
  one after the other, while the client waits (`sync_calls`): the payment provider when its code
  imports the payment client and the probe saw a call for this operation, and its database. The
  depth is client → gateway → owner → one dependency; work done after the response (events) is not
  part of it.
"""

from __future__ import annotations

import re
from typing import Any

from harness.audit.static import GATEWAY, PAYMENT_PROVIDER
from harness.config.architectures import spec_of
from harness.deploy.deployment import INFRASTRUCTURE

# probe operation -> the contract route that serves it
ROUTE_OF = {"book": "POST /bookings", "cancel": "POST /bookings/{booking_id}/cancel",
            "search": "GET /availability", "get_booking": "GET /bookings/{booking_id}",
            "list_hotels": "GET /hotels"}
# availability-matrix operation -> the routes it needs (book_complete: accepted, then seen terminal)
ROUTES_OF = {"health": ["GET /health"], "list_hotels": ["GET /hotels"],
             "availability": ["GET /availability"], "book_accept": ["POST /bookings"],
             "book_complete": ["POST /bookings", "GET /bookings/{booking_id}"],
             "get_booking": ["GET /bookings/{booking_id}"],
             "cancel": ["POST /bookings/{booking_id}/cancel"],
             "customer_bookings": ["GET /customers/{customer_id}/bookings"]}


def route_owner(static: dict[str, Any], route: str) -> str | None:
    for node in static["contracts"]["nodes"]:
        if route in node["routes"]:
            return str(node["name"])
    return None


def runtime_coupling(static: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
    """Per probe operation: messages, hops, bytes, databases touched and the synchronous chain."""
    sync_callers = {e["from"] for e in static["contracts"]["edges"]
                    if e["kind"] == "sync" and e["to"] == PAYMENT_PROVIDER}
    stateful = {name for name, d in static["data"]["deployables"].items() if d["declared"]}
    out: dict[str, Any] = {}
    for op, counts in runtime.items():
        owner = route_owner(static, ROUTE_OF.get(op, ""))
        chain = ["client", GATEWAY] + ([owner] if owner else [])
        calls = []
        if owner in sync_callers and counts["provider_calls"] > 0:
            calls.append(PAYMENT_PROVIDER)
        if owner in stateful:
            calls.append("postgres")
        messages = counts["events_published"] + counts["deliveries"]
        out[op] = {
            "messages": round(messages, 2),
            "hops": round(2 * counts["client_requests"] + counts["provider_calls"] + messages, 2),
            "bytes": round(counts["client_bytes"] + counts["broker_bytes_in"]
                           + counts["broker_bytes_out"]),
            "client_requests": counts["client_requests"], "client_polls": counts["client_polls"],
            "provider_calls": counts["provider_calls"],
            "events_published": counts["events_published"], "deliveries": counts["deliveries"],
            "db_transactions": round(sum(counts["db_transactions"].values()), 2),
            "databases_touched": counts["databases_touched"],
            "sync_chain": chain, "sync_calls": calls,
            "sync_depth": len(chain) - 1 + (1 if calls else 0),
        }
    return out


def dependency_closure(static: dict[str, Any], start: str, kinds: tuple[str, ...] = ("sync", "async")
                       ) -> set[str]:
    """Every node `start` depends on through edges of `kinds`, directly or through others."""
    edges = [e for e in static["contracts"]["edges"] if e["kind"] in kinds]
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for edge in edges:
            if edge["from"] == node and edge["to"] not in seen:
                seen.add(edge["to"])
                todo.append(edge["to"])
    return seen


def availability_summary(static: dict[str, Any], availability: dict[str, Any],
                         architecture: str) -> dict[str, Any]:
    """Blast radius per stopped component (the share of operations failing), its mean over every
    component and over the application components (every service, or the monolith's one
    process), and the failures no declared dependency explains."""
    matrix = availability["matrix"]
    operations = availability["operations"]
    rows = {}
    unexplained = []
    for down, results in matrix.items():
        failed = [op for op in operations if not results[op]["ok"]]
        rows[down] = {"failed": failed,
                      "blast_radius": round(len(failed) / len(operations), 3) if operations else 0}
        for op in failed:
            if not _explained(static, architecture, down, op):
                unexplained.append({"down": down, "operation": op})
    apps = [c for c in matrix if c not in INFRASTRUCTURE]

    def mean(names: list[str]) -> float | None:
        return round(sum(rows[c]["blast_radius"] for c in names) / len(names), 3) if names else None

    return {"components": rows, "unexplained": unexplained,
            "mean_blast_radius": mean(list(rows)), "mean_app_blast_radius": mean(apps),
            "max_app_blast_radius": max((rows[c]["blast_radius"] for c in apps), default=None)}


def _explained(static: dict[str, Any], architecture: str, down: str, op: str) -> bool:
    """A failure is explained when the component that is down is one the operation's routes
    call while the client waits: the gateway, the route's owner and what it calls synchronously,
    and the database of a stateful owner. Only a booking's completion also waits for events, so
    in the microservices it needs every service and the broker."""
    if down == "caddy":
        return True
    for route in ROUTES_OF[op]:
        owner = route_owner(static, route)
        if owner is None:
            continue
        needs = {owner} | dependency_closure(static, owner, ("sync",))
        if static["data"]["deployables"].get(owner, {}).get("declared"):
            needs.add("postgres")
        if spec_of(architecture).kind == "services" and op == "book_complete":
            needs |= {"nats"} | {n["name"] for n in static["contracts"]["nodes"]}
        if down in needs:
            return True
    return False


def checklist(static: dict[str, Any], live: dict[str, Any] | None,
              architecture: str) -> list[dict[str, Any]]:
    """The well-designed-service checklist, one pass/fail with its evidence per deployable and
    check. `passed` is None when the evidence needs the live audit and there is none."""
    data = static["data"]
    events = static["contracts"]["events"]
    out = []
    for name, tables in data["deployables"].items():
        owned = tables["deployed"] if tables["deployed"] is not None else tables["declared"]
        manifest_stateful = bool(tables["stateful"])
        shared = [s for s in data["shared_tables"] if name in s["users"]
                  or (spec_of(architecture).kind == "services" and s["database"] == tables["database"])]
        cross = [c for c in data["cross_database"] if c["deployable"] == name]
        foreign = [f for f in data["foreign_clients"] if f["database"] == tables["database"]]
        # inside the monolith, contexts sharing a table is coupling, but no other deployable
        # shares it: the evidence names them, the check is about deployables
        alone = not cross and not foreign and (spec_of(architecture).kind == "single" or not shared)
        checks = [
            ("shares no table", alone,
             _evidence_shared(tables, shared, cross, foreign, architecture)),
            ("minimal tables, each justified", *_minimal(tables, owned)),
            ("stateful or stateless as declared", *_stateful(manifest_stateful, owned)),
            ("data availability accounted for",
             *_availability(static, live, architecture, name)),
            ("single source of truth", *_single_source(data, events, name, architecture)),
        ]
        out += [{"deployable": name, "check": check, "passed": passed, "evidence": evidence}
                for check, passed, evidence in checks]
    return out


def _evidence_shared(tables: dict[str, Any], shared: list[dict[str, Any]],
                     cross: list[dict[str, Any]], foreign: list[dict[str, Any]],
                     architecture: str) -> str:
    parts = []
    if shared:
        what = "contexts" if spec_of(architecture).kind == "single" else "services"
        parts.append("; ".join(f"{s['table']} used by {what} {', '.join(s['users'])}"
                               for s in shared))
    if cross:
        parts.append("; ".join(f"its code names {c['table']} of database {c['database']}"
                               for c in cross))
    if foreign:
        parts.append("; ".join(f"{', '.join(f['clients'])} connected to its database"
                               for f in foreign))
    if parts:
        return "; ".join(parts)
    return (f"database {tables['database']}: every table its code names is its own, and no other "
            "deployable uses them")


def _minimal(tables: dict[str, Any], owned: list[str]) -> tuple[bool, str]:
    justification = tables.get("justification", "")
    unjustified = [t for t in owned if not re.search(rf"\b{re.escape(t)}\b", justification)]
    undeclared = sorted(set(owned) - set(tables["declared"]))
    missing = sorted(set(tables["declared"]) - set(owned))
    unused = sorted(set(owned) - {t for t, access in tables["code"].items() if access != "define"})
    problems = []
    if unjustified:
        problems.append(f"no justification for {', '.join(unjustified)}")
    if undeclared:
        problems.append(f"deployed but not declared: {', '.join(undeclared)}")
    if missing:
        problems.append(f"declared but not deployed: {', '.join(missing)}")
    if unused:
        problems.append(f"never read or written by its code: {', '.join(unused)}")
    source = "deployed" if tables["deployed"] is not None else "declared"
    head = f"{len(owned)} tables ({source}), each justified in the manifest"
    return not problems, (head if not problems else "; ".join(problems))


def _stateful(declared: bool, owned: list[str]) -> tuple[bool, str]:
    word = "stateful" if declared else "stateless"
    passed = bool(owned) == declared
    return passed, f"declared {word}; owns {len(owned)} table{'s' if len(owned) != 1 else ''}"


def _availability(static: dict[str, Any], live: dict[str, Any] | None, architecture: str,
                  name: str) -> tuple[bool | None, str]:
    if not live or "availability" not in live:
        return None, "not evaluated: no live audit"
    availability = live["availability"]
    matrix = availability["matrix"]
    served = [op for op, routes in ROUTES_OF.items()
              if any(route_owner(static, r) == name for r in routes)]
    unexplained = [f"{op} fails while {down} is down" for down, results in matrix.items()
                   if down != name for op in served
                   if not results[op]["ok"] and not _explained(static, architecture, down, op)]
    resumed = availability.get("completed_after_resume", {}).get(name)
    needs = sorted(dependency_closure(static, name))
    parts = [f"serves {', '.join(served) or 'no route (works from events)'}",
             f"depends on {', '.join(needs) or 'nothing'}"]
    if unexplained:
        parts.append("unexplained: " + "; ".join(unexplained))
    if resumed is False:
        parts.append("work accepted while it was down did not complete after it resumed")
    elif resumed:
        parts.append("work accepted while it was down completed after it resumed")
    return not unexplained and resumed is not False, "; ".join(parts)


def _single_source(data: dict[str, Any], events: list[dict[str, Any]], name: str,
                   architecture: str) -> tuple[bool, str]:
    """Each table it writes has no other writer: no other service, and in the monolith no other
    context (its writers are counted per context)."""
    written = [t for t, access in data["deployables"][name]["code"].items() if "write" in access]
    multi = [m for m in data["multiple_writers"]
             if spec_of(architecture).kind == "single" or name in m["writers"]]
    emitted = [e["type"] for e in events if e["producer"] == name]
    problems = [f"{m['table']} also written by {', '.join(w for w in m['writers'] if w != name)}"
                for m in multi]
    problems += [f"{e['type']} also emitted by {', '.join(p for p in e['producers'] if p != name)}"
                 for e in events if name in e.get("producers", []) and len(e["producers"]) > 1]
    head = (f"sole writer of {len(written)} table{'s' if len(written) != 1 else ''}"
            f"{f' and sole producer of {len(emitted)} event types' if emitted else ''}")
    return not problems, "; ".join(problems) if problems else head
