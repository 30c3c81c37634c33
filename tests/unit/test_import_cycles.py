"""No import cycle anywhere in the project, lazy (function-level) imports included: a cycle is
what the layers are there to prevent, and a lazy import must mean "heavy", never "cycle"."""

from __future__ import annotations

import grimp
import networkx as nx

PACKAGES = ("apps", "harness", "loadtests", "sim")


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected group of modules (each can reach the others by imports)."""
    digraph = nx.DiGraph()
    for module in graph.modules:
        digraph.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            digraph.add_edge(module, imported)
    return sorted(sorted(group) for group in nx.strongly_connected_components(digraph)
                  if len(group) > 1)


def test_the_project_has_no_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert module_cycles(graph) == []


def test_a_cycle_through_a_lazy_import_is_found() -> None:
    graph = grimp.ImportGraph()
    for module in ("x", "x.a", "x.b", "x.c"):
        graph.add_module(module)
    graph.add_import(importer="x.a", imported="x.b", line_number=3, line_contents="import x.b")
    graph.add_import(importer="x.b", imported="x.c", line_number=3, line_contents="import x.c")
    # inside a function, as grimp records every import statement wherever it stands
    graph.add_import(importer="x.c", imported="x.a", line_number=9, line_contents="    import x.a")
    assert module_cycles(graph) == [["x.a", "x.b", "x.c"]]
