"""What the source says about coupling, read without running or importing any app.

- **Imports** (grimp parses the source): per module and per component, afferent coupling Ca (how
  many others import it), efferent coupling Ce (how many it imports) and instability
  I = Ce / (Ca + Ce); import edges that cross bounded contexts; cycles; the size and density of
  the code each deployable loads.
- **Data** (SQL in the code's string literals): the tables each module and deployable reads and
  writes; tables used by more than one context or service; tables a service touches that live in
  another service's database.
- **Contracts** (the manifests): routes and events per deployable, producers and consumers of every
  event, the dependency graph with synchronous and asynchronous edges, fan-in/fan-out and the
  service-coupling metrics AIS, ADS and SCF.

Components: in the monolith, the bounded contexts its manifest names (`[contexts]`) plus
`platform` (its other modules); in the microservices, one per service plus the launcher. Both share
the `domain` (apps.booking), the `contract`, the `shared platform` and its `shared SQL`, the
`payment client` and, for the services, the `common` platform library: shared libraries are
components too, so what every deployable loads is counted.

Over 400 lines on purpose: the three static views share one model of what each deployable loads
(`Deployable`, `loaded_modules`); each view is a function of about a hundred lines.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grimp
import networkx as nx

from harness.config.architectures import PROJECT_ROOT, ArchitectureSpec, registry
from harness.config.errors import HarnessError
from harness.deploy.manifests import load_manifests

PAYMENT_CLIENT = "apps.payment_provider.client"
PAYMENT_PROVIDER = "payment_provider"
GATEWAY = "gateway"
LIBRARIES = {"apps.booking": "domain", PAYMENT_CLIENT: "payment client",
             "apps.microservices.common": "common", "apps.contract": "contract",
             "apps.platform": "shared platform",
             # the rules both architectures run as the same SQL: business rules, not plumbing
             "apps.platform.inventory": "shared SQL", "apps.platform.catalog": "shared SQL",
             "apps.platform.bookings": "shared SQL"}

# components whose code is plumbing every deployable needs, not business rules
CROSS_CUTTING = {"platform", "launcher", "common", "shared platform"}
_DEFINE = re.compile(r"\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)")
# SQL keywords in capitals, as this code base writes them: prose in strings does not match
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(\w+)")
_READ = re.compile(r"(?<!DELETE )\b(?:FROM|JOIN)\s+(\w+)")


@dataclass(frozen=True)
class Deployable:
    """One process type of an architecture, as its manifest declares it."""

    name: str
    package: str
    database: str
    stateful: bool
    tables: tuple[str, ...]
    tables_justification: str
    routes: tuple[str, ...]
    consumes: tuple[str, ...] = ()
    emits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Architecture:
    name: str
    deployables: tuple[Deployable, ...]
    contexts: dict[str, str]  # package or module -> component name, most specific first
    kind: str = "services"  # the registry's: single (contexts in one process) or services


def architectures() -> dict[str, Architecture]:
    """Every registered architecture as its manifests declare it."""
    return {name: architecture(spec) for name, spec in registry().items()}


def architecture(spec: ArchitectureSpec) -> Architecture:
    """One architecture's deployables and components, from its manifests."""
    return _single(spec) if spec.kind == "single" else _services(spec)


def _single(spec: ArchitectureSpec) -> Architecture:
    """One process whose manifest names the modules of each bounded context."""
    (path,) = spec.manifest_files()
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"cannot read manifest {path}: {exc}") from exc
    package = f"apps.{spec.app}"
    contexts = {f"{package}.{module}": context
                for context, modules in raw.pop("contexts", {}).items() for module in modules}
    contexts[package] = "platform"
    app = Deployable(package=package, **{
        k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    return Architecture(spec.name, (app,), {**contexts, **LIBRARIES}, spec.kind)


def _services(spec: ArchitectureSpec) -> Architecture:
    """One process per service manifest, each service its own component."""
    package = f"apps.{spec.app}"
    services = tuple(
        Deployable(m.name, f"{package}.{m.name}", m.database, m.stateful, m.tables,
                   m.tables_justification, m.routes, m.consumes, m.emits)
        for m in load_manifests(spec.manifests_dir))
    contexts = {s.package: s.name for s in services}
    contexts[package] = "launcher"
    return Architecture(spec.name, services, {**contexts, **LIBRARIES}, spec.kind)


def component_of(module: str, contexts: dict[str, str]) -> str | None:
    """The component of `module`: the longest package prefix named in `contexts`."""
    best: tuple[int, str] | None = None
    for prefix, name in contexts.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]):
            best = (len(prefix), name)
    return best[1] if best else None


def build_graph() -> grimp.ImportGraph:
    """The project's import graph; imports made only for type checking are left out (they never
    run, so they couple nothing at run time)."""
    return grimp.build_graph("apps", cache_dir=None, exclude_type_checking_imports=True)


def _module_path(module: str, root: Path = PROJECT_ROOT) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def code_lines(path: Path) -> int:
    """Lines of code: neither blank, nor comments, nor docstrings."""
    try:
        text = path.read_text()
        tree = ast.parse(text, filename=str(path))
    except (OSError, SyntaxError):
        return 0
    docs = {line for node in _docstrings(tree)
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    return sum(1 for number, line in enumerate(text.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#") and number not in docs)


def _docstrings(tree: ast.AST) -> list[ast.Constant]:
    return [node.body[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)]


def own_modules(deployable: Deployable, graph: grimp.ImportGraph) -> set[str]:
    return {deployable.package, *graph.find_descendants(deployable.package)}


def loaded_modules(deployable: Deployable, arch: Architecture,
                   graph: grimp.ImportGraph) -> set[str]:
    """What the deployable's process loads: its own modules, the launcher that starts every
    service, and every module of the architecture's components they import, transitively."""
    loaded = own_modules(deployable, graph)
    for package, name in arch.contexts.items():
        if name == "launcher":  # `python -m <package> <service>` runs it in every service
            loaded |= {package, f"{package}.__main__"} & graph.modules
    for module in list(loaded):
        loaded |= graph.find_upstream_modules(module)
    return {m for m in loaded if component_of(m, arch.contexts) is not None}


def _metrics(graph: nx.DiGraph, node: str) -> dict[str, Any]:
    ca, ce = graph.in_degree(node), graph.out_degree(node)
    return {"ca": ca, "ce": ce, "instability": round(ce / (ca + ce), 3) if ca + ce else None}


def import_coupling(arch: Architecture, graph: grimp.ImportGraph) -> dict[str, Any]:
    """Module- and component-level coupling of everything `arch`'s deployables load."""
    loaded = {d.name: loaded_modules(d, arch, graph) for d in arch.deployables}
    modules = set().union(*loaded.values())
    module_graph = nx.DiGraph()
    module_graph.add_nodes_from(modules)
    for importer in modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported in modules:
                module_graph.add_edge(importer, imported)
    component = {m: component_of(m, arch.contexts) for m in modules}
    lines = {m: code_lines(_module_path(m)) for m in modules}
    components = nx.DiGraph()
    components.add_nodes_from(set(component.values()))
    for a, b in module_graph.edges:
        if component[a] != component[b]:
            components.add_edge(component[a], component[b])
    business = set(_business_contexts(arch))
    crossing = [
        {"importer": a, "imported": b, "from": component[a], "to": component[b]}
        for a, b in sorted(module_graph.edges)
        if component[a] != component[b] and component[a] in business and component[b] in business
    ]
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(module_graph) if len(c) > 1)
    deployables = []
    for deployable in arch.deployables:
        runs = loaded[deployable.name]
        own = own_modules(deployable, graph) & runs
        sub = module_graph.subgraph(runs)
        deployables.append({
            "name": deployable.name, "modules": len(runs),
            "lines": sum(lines[m] for m in runs), "own_lines": sum(lines[m] for m in own),
            # configuration, start-up, health, HTTP, logging, storage and messaging plumbing
            "cross_cutting_lines": sum(lines[m] for m in runs if component[m] in CROSS_CUTTING),
            "import_edges": sub.number_of_edges(), "density": round(nx.density(sub), 4)})
    largest = max(deployables, key=lambda d: d["own_lines"])
    plumbing = {m for m in modules if component[m] in CROSS_CUTTING}
    return {
        "modules": [{"module": m, "component": component[m], "lines": lines[m],
                     **_metrics(module_graph, m)} for m in sorted(modules)],
        "components": [
            {"name": c, "kind": _kind(c, arch, business),
             "modules": sum(1 for m in modules if component[m] == c),
             "lines": sum(lines[m] for m in modules if component[m] == c),
             **_metrics(components, c)} for c in sorted(components.nodes)],
        "component_edges": [{"from": a, "to": b} for a, b in sorted(components.edges)],
        "cross_context_imports": crossing,
        "cycles": cycles,
        "module_count": len(modules), "import_edges": module_graph.number_of_edges(),
        "density": round(nx.density(module_graph), 4),
        "mean_deployable_density": round(
            sum(d["density"] for d in deployables) / len(deployables), 4),
        # plumbing written once, whichever deployables load it
        "cross_cutting_distinct_lines": sum(lines[m] for m in plumbing),
        "deployables": deployables,
        "largest_deployable": {"name": largest["name"], "own_lines": largest["own_lines"],
                               "lines": largest["lines"]},
    }


def _business_contexts(arch: Architecture) -> list[str]:
    return sorted({name for prefix, name in arch.contexts.items()
                   if prefix not in LIBRARIES and name not in ("platform", "launcher")})


def _kind(component: str, arch: Architecture, business: set[str]) -> str:
    if component in business:
        return "context" if arch.kind == "single" else "service"
    return "library" if component in LIBRARIES.values() else "platform"


# --- data coupling from the SQL in the code ---------------------------------------------------

def sql_strings(path: Path) -> list[str]:
    """String literals of a Python file that may hold SQL (docstrings excluded; an f-string's
    placeholders become `?`)."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise HarnessError(f"cannot parse {path}: {exc}") from exc
    docstrings = {id(node) for node in _docstrings(tree)}
    found: list[str] = []
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstring.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else "?")
            found.append("".join(str(p) for p in parts))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings and id(node) not in inside_fstring):
            found.append(node.value)
    return found


def table_access(texts: Iterable[str], known: set[str]) -> dict[str, set[str]]:
    """{table: {"read", "write", "define"}} for the known tables named in SQL text."""
    access: dict[str, set[str]] = defaultdict(set)
    for text in texts:
        for kind, pattern in (("define", _DEFINE), ("write", _WRITE), ("read", _READ)):
            for name in pattern.findall(text):
                if name in known:
                    access[name].add(kind)
    return dict(access)


def defined_tables(root: Path = PROJECT_ROOT / "apps") -> set[str]:
    """Every table some code of the project creates."""
    return {name for path in root.rglob("*.py") for text in sql_strings(path)
            for name in _DEFINE.findall(text)}


def _describe(kinds: set[str]) -> str:
    used = sorted(kinds - {"define"})
    return "/".join(used) if used else "define"


def data_coupling(arch: Architecture, graph: grimp.ImportGraph, *,
                  schemas: dict[str, list[str]] | None = None,
                  clients: dict[str, list[str]] | None = None,
                  root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Tables per deployable, from the code and (when given) the deployed databases.

    schemas: {database: [tables]} read from information_schema of a live deployment;
    clients: {database: [process names]} connected to it (pg_stat_activity).
    A *shared table* is one (database, table) read or written by more than one context (monolith)
    or service (microservices). A *cross-database access* is a deployable's own code naming a table
    that is not in its own database. The SQL of a shared library (the services' `common`) runs in
    the database of whichever service calls it, so a library table counts for a deployable only
    where its own database has it.
    """
    known = defined_tables(root / "apps") | {t for tables in (schemas or {}).values()
                                             for t in tables}
    by_module: dict[str, dict[str, str]] = {}
    users: dict[tuple[str, str], set[str]] = defaultdict(set)
    writers: dict[tuple[str, str], set[str]] = defaultdict(set)
    deployables: dict[str, Any] = {}
    cross: list[dict[str, str]] = []
    database_of = {d.name: d.database for d in arch.deployables}
    own_tables = {d.database: set(schemas.get(d.database, d.tables) if schemas else d.tables)
                  for d in arch.deployables}
    for deployable in arch.deployables:
        code: dict[str, set[str]] = defaultdict(set)
        for module in sorted(loaded_modules(deployable, arch, graph)):
            access = table_access(sql_strings(_module_path(module, root)), known)
            if not access:
                continue
            by_module[module] = {t: _describe(k) for t, k in sorted(access.items())}
            owner = component_of(module, arch.contexts) or module
            user = owner if arch.kind == "single" else deployable.name
            library = owner in LIBRARIES.values()
            for table, kinds in access.items():
                if library and table not in own_tables[deployable.database]:
                    continue
                code[table] |= kinds
                key = (deployable.database, table)
                if kinds - {"define"}:
                    users[key].add(user)
                if "write" in kinds:
                    writers[key].add(user)
        for table in sorted(code):
            if table in own_tables[deployable.database]:
                continue
            owners = [d for d, db in database_of.items()
                      if db != deployable.database and table in own_tables[db]]
            cross.append({"deployable": deployable.name, "table": table,
                          "database": ", ".join(database_of[o] for o in owners) or "none"})
        deployed = schemas.get(deployable.database) if schemas else None
        deployables[deployable.name] = {
            "database": deployable.database, "stateful": deployable.stateful,
            "justification": deployable.tables_justification,
            "declared": sorted(deployable.tables),
            "deployed": sorted(deployed) if deployed is not None else None,
            "code": {t: _describe(k) for t, k in sorted(code.items())},
        }
    shared = [{"database": db, "table": t, "users": sorted(u)}
              for (db, t), u in sorted(users.items()) if len(u) > 1]
    multi_writer = [{"database": db, "table": t, "writers": sorted(w)}
                    for (db, t), w in sorted(writers.items()) if len(w) > 1]
    foreign_clients = []
    for deployable in arch.deployables:
        connected = (clients or {}).get(deployable.database, [])
        # "unknown": a backend whose client port no process of the deployment holds any more
        others = sorted(set(connected) - {deployable.name, "unknown"})
        if others and arch.kind == "services":
            foreign_clients.append({"database": deployable.database, "clients": others})
    return {
        "deployables": deployables, "by_module": by_module, "shared_tables": shared,
        "multiple_writers": multi_writer, "cross_database": cross,
        "foreign_clients": foreign_clients, "source": "deployed" if schemas else "manifests",
    }


# --- contract coupling from the manifests -----------------------------------------------------

def contract_coupling(arch: Architecture, graph: grimp.ImportGraph) -> dict[str, Any]:
    """Routes, events and the dependency graph: A depends on B when A calls B synchronously or
    consumes an event B emits. The payment provider is a node (an external dependency); a
    deployable calls it synchronously when its code imports the payment client."""
    producers: dict[str, list[str]] = defaultdict(list)
    for d in arch.deployables:
        for event in d.emits:
            producers[event].append(d.name)
    producer = {event: names[0] for event, names in producers.items()}
    deps = nx.DiGraph()
    deps.add_nodes_from([d.name for d in arch.deployables] + [PAYMENT_PROVIDER])
    edges: list[dict[str, Any]] = []
    for deployable in arch.deployables:
        if PAYMENT_CLIENT in loaded_modules(deployable, arch, graph):
            deps.add_edge(deployable.name, PAYMENT_PROVIDER, kind="sync")
            edges.append({"from": deployable.name, "to": PAYMENT_PROVIDER, "kind": "sync",
                          "via": "HTTP (payment client)"})
        by_producer: dict[str, list[str]] = defaultdict(list)
        for event in deployable.consumes:
            if event not in producer:
                raise HarnessError(f"{deployable.name} consumes {event}, which no manifest emits")
            by_producer[producer[event]].append(event.rsplit(".", 1)[-1])
        for source, events in sorted(by_producer.items()):
            if source != deployable.name:
                deps.add_edge(deployable.name, source, kind="async")
                edges.append({"from": deployable.name, "to": source, "kind": "async",
                              "via": ", ".join(events)})
    gateway = [{"from": GATEWAY, "to": d.name, "kind": "sync", "via": f"{len(d.routes)} routes"}
               for d in arch.deployables if d.routes]
    n = deps.number_of_nodes()
    nodes = []
    for node in deps.nodes:
        out_kinds = [deps.edges[node, t]["kind"] for t in deps.successors(node)]
        nodes.append({
            "name": node,
            "routes": next((list(d.routes) for d in arch.deployables if d.name == node), []),
            "emits": next((len(d.emits) for d in arch.deployables if d.name == node), 0),
            "consumes": next((len(d.consumes) for d in arch.deployables if d.name == node), 0),
            "ais": deps.in_degree(node), "ads": deps.out_degree(node),
            "sync_out": out_kinds.count("sync"), "async_out": out_kinds.count("async"),
        })
    events = [{"type": event, "producer": source, "producers": producers[event],
               "consumers": sorted(d.name for d in arch.deployables if event in d.consumes)}
              for event, source in sorted(producer.items())]
    return {
        "nodes": nodes, "edges": edges, "gateway_edges": gateway, "events": events,
        "sync_edges": sum(1 for e in edges if e["kind"] == "sync"),
        "async_edges": sum(1 for e in edges if e["kind"] == "async"),
        "scf": round(deps.number_of_edges() / (n * (n - 1)), 4) if n > 1 else None,
    }
