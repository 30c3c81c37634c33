"""The static audit: the real code's coupling figures, and a synthetic two-service system where a
shared table, a cross-database read and a foreign connection are added on purpose."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

from harness.audit import static
from harness.audit.collect import derive_all
from harness.audit.derive import checklist
from harness.audit.static import Architecture, Deployable, data_coupling, sql_strings
from harness.results.audit_files import violations


@pytest.fixture(scope="module")
def real() -> dict:
    return {arch: entry["static"] for arch, entry in derive_all({}).items()}


def test_the_microservices_share_no_table_and_import_no_other_service(real: dict) -> None:
    micro = real["microservices"]
    assert micro["data"]["shared_tables"] == []
    assert micro["data"]["cross_database"] == []
    assert micro["imports"]["cross_context_imports"] == []
    services = {c["name"] for c in micro["imports"]["components"] if c["kind"] == "service"}
    assert services == {"booking", "inventory", "payment", "notification", "query"}
    for name, tables in micro["data"]["deployables"].items():
        assert set(tables["code"]) <= set(tables["declared"]), name


def test_the_monolith_couples_its_contexts_through_imports_and_tables(real: dict) -> None:
    mono = real["monolith"]
    crossing = {(e["from"], e["to"]) for e in mono["imports"]["cross_context_imports"]}
    assert ("booking", "payment") in crossing  # the booking workflow calls payments in-process
    shared = {s["table"]: s["users"] for s in mono["data"]["shared_tables"]}
    assert shared, "the monolith's contexts share tables in its one database"
    assert all(len(users) > 1 for users in shared.values())
    assert len(mono["imports"]["deployables"]) == 1


def test_instability_is_efferent_over_total_coupling(real: dict) -> None:
    for arch in real.values():
        for row in arch["imports"]["modules"] + arch["imports"]["components"]:
            total = row["ca"] + row["ce"]
            expected = None if total == 0 else round(row["ce"] / total, 3)
            assert row["instability"] == expected, row


def test_contracts_follow_the_manifests(real: dict) -> None:
    contracts = real["microservices"]["contracts"]
    producers = {e["type"].rsplit(".", 1)[-1]: e["producer"] for e in contracts["events"]}
    assert producers["BookingRequested"] == "booking"
    assert producers["PaymentAuthorized"] == "payment"
    sync = {(e["from"], e["to"]) for e in contracts["edges"] if e["kind"] == "sync"}
    assert sync == {("payment", "payment_provider")}  # only the payment service calls it
    nodes = {n["name"]: n for n in contracts["nodes"]}
    assert nodes["query"]["ads"] == 4 and nodes["query"]["ais"] == 0
    n = len(nodes)
    assert contracts["scf"] == round(len(contracts["edges"]) / (n * (n - 1)), 4)
    mono = real["monolith"]["contracts"]
    assert {(e["from"], e["to"]) for e in mono["edges"]} == {("monolith", "payment_provider")}


def test_sql_is_read_from_code_not_from_docstrings(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('"""We read FROM orders here, in prose."""\n'
                      'COLUMNS = "a, b"\n'
                      'def f(lock):\n'
                      '    """Reads FROM invoices."""\n'
                      '    return f"SELECT {COLUMNS} FROM orders WHERE id = $1{lock}"\n')
    texts = sql_strings(source)
    assert "SELECT ? FROM orders WHERE id = $1?" in texts
    assert not any("prose" in t or "Reads" in t for t in texts)
    access = static.table_access(texts, {"orders", "invoices"})
    assert access == {"orders": {"read"}}


# --- a synthetic system: two services, alpha (orders) and beta (invoices) ----------------------

def _service(root: Path, name: str, body: str) -> None:
    folder = root / "apps" / "microservices" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "store.py").write_text(body)


def _system(root: Path, beta_sql: str = "", beta_database: str = "beta") -> tuple:
    _service(root, "alpha", 'DDL = "CREATE TABLE IF NOT EXISTS orders (id int)"\n'
                            'Q = "INSERT INTO orders (id) VALUES ($1)"\n')
    _service(root, "beta", 'DDL = "CREATE TABLE IF NOT EXISTS invoices (id int)"\n'
                           'Q = "UPDATE invoices SET id = $1"\n' + beta_sql)
    graph = grimp.ImportGraph()
    for module in ("apps", "apps.microservices", "apps.microservices.alpha",
                   "apps.microservices.alpha.store", "apps.microservices.beta",
                   "apps.microservices.beta.store"):
        graph.add_module(module)
    alpha = Deployable("alpha", "apps.microservices.alpha", "alpha", True, ("orders",),
                       "orders: what was ordered.", ())
    beta = Deployable("beta", "apps.microservices.beta", beta_database, True, ("invoices",),
                      "invoices: what was billed.", ())
    arch = Architecture("microservices", (alpha, beta),
                        {"apps.microservices.alpha": "alpha", "apps.microservices.beta": "beta"})
    return arch, graph


def _audit(arch: Architecture, graph: grimp.ImportGraph, root: Path, **live: dict) -> dict:
    data = data_coupling(arch, graph, root=root, **live)
    contracts = {"nodes": [{"name": d.name, "routes": [], "emits": 0, "consumes": 0}
                           for d in arch.deployables], "events": [], "edges": []}
    return {"data": data, "contracts": contracts}


def _check(result: dict, deployable: str, check: str) -> dict:
    rows = checklist(result, None, "microservices")
    return next(r for r in rows if r["deployable"] == deployable and r["check"] == check)


def test_separate_databases_pass(tmp_path: Path) -> None:
    arch, graph = _system(tmp_path)
    result = _audit(arch, graph, tmp_path)
    assert result["data"]["shared_tables"] == [] and result["data"]["cross_database"] == []
    assert _check(result, "beta", "shares no table")["passed"] is True
    assert _check(result, "beta", "single source of truth")["passed"] is True


def test_a_read_of_another_services_table_is_a_cross_database_access(tmp_path: Path) -> None:
    arch, graph = _system(tmp_path, beta_sql='R = "SELECT id FROM orders"\n')
    result = _audit(arch, graph, tmp_path)
    assert result["data"]["cross_database"] == [
        {"deployable": "beta", "table": "orders", "database": "alpha"}]
    check = _check(result, "beta", "shares no table")
    assert check["passed"] is False and "orders" in check["evidence"]
    assert violations({"architectures": {"microservices": {"static": result}}}) == [
        "beta names table orders of database alpha"]


def test_two_services_on_one_database_share_its_tables(tmp_path: Path) -> None:
    arch, graph = _system(tmp_path, beta_sql='W = "DELETE FROM orders WHERE id = $1"\n',
                          beta_database="alpha")
    result = _audit(arch, graph, tmp_path,
                    schemas={"alpha": ["orders", "invoices"]})
    shared = result["data"]["shared_tables"]
    assert shared == [{"database": "alpha", "table": "orders", "users": ["alpha", "beta"]}]
    assert result["data"]["multiple_writers"] == [
        {"database": "alpha", "table": "orders", "writers": ["alpha", "beta"]}]
    assert _check(result, "alpha", "shares no table")["passed"] is False
    assert _check(result, "beta", "single source of truth")["passed"] is False


def test_a_foreign_connection_and_an_undeclared_table_fail_their_checks(tmp_path: Path) -> None:
    arch, graph = _system(tmp_path)
    result = _audit(arch, graph, tmp_path,
                    schemas={"alpha": ["orders", "scratch"], "beta": ["invoices"]},
                    clients={"alpha": ["alpha", "beta"], "beta": ["beta"]})
    assert result["data"]["foreign_clients"] == [{"database": "alpha", "clients": ["beta"]}]
    assert _check(result, "alpha", "shares no table")["passed"] is False
    minimal = _check(result, "alpha", "minimal tables, each justified")
    assert minimal["passed"] is False and "scratch" in minimal["evidence"]


def test_a_stateless_service_that_owns_a_table_fails(tmp_path: Path) -> None:
    arch, graph = _system(tmp_path)
    alpha, beta = arch.deployables
    stateless = Architecture(arch.name, (alpha, Deployable(
        beta.name, beta.package, beta.database, False, beta.tables, beta.tables_justification,
        ())), arch.contexts)
    check = _check(_audit(stateless, graph, tmp_path), "beta", "stateful or stateless as declared")
    assert check["passed"] is False and check["evidence"] == "declared stateless; owns 1 table"
