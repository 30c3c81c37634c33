"""Start, watch and stop the processes of one deployment.

Every process the harness starts goes through a `Supervisor`: it gets its own session (so a Ctrl-C
in the terminal reaches only the parent, which then stops the children in order), a parent-death
signal (so even a SIGKILLed parent leaves no orphan), a log file in the deployment folder, and a
health check with a deadline. `stop_all` stops them in reverse start order: polite signal, wait,
then SIGKILL. Only processes this supervisor started are ever signalled, by their pid.

Each process can be pinned to a set of CPUs at spawn (the supervisor's set, or its own), which
everything it starts inherits.

Faults go through it too: `kill` SIGKILLs a process with all its descendants, `frozen` pauses them
(SIGSTOP, and SIGCONT whatever happens), and `restart` starts a process again exactly as it was
first started (same command, environment and ports), waiting for its health check.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness.config.errors import HarnessError

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int, cpus: frozenset[int] | None = None) -> Callable[[], None]:
    def set_parent_death_signal() -> None:
        # a child inherits the signal mask of the thread that forked it, through exec: one
        # started from a thread that blocks SIGTERM (`start_quietly`) would never see its stop
        # signal, nor this one
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if cpus is not None:
            # before exec, so that every process it starts inherits the set; a set the kernel
            # refuses leaves the process unpinned, which the run records (it reads affinity back)
            with contextlib.suppress(OSError, AttributeError):
                os.sched_setaffinity(0, cpus)

    return set_parent_death_signal


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel reports free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, host: str = "127.0.0.1") -> int:
    """Fail with a one-line error if `port` on `host` is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise HarnessError(
                f"port {port} on {host} is already in use: choose another with --port, "
                "or stop what is listening there"
            ) from exc
    return port


HealthCheck = Callable[[], bool]


@dataclass(frozen=True)
class Launch:
    """How a process was started, so that a restart starts it the same way."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path | None
    user: str | None
    health: HealthCheck | None
    timeout: float
    cpus: frozenset[int] | None = None


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    ports: tuple[int, ...] = ()
    launch: Launch | None = None
    restarts: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Supervisor:
    """Owns every child process of one deployment; `cpus`: the CPUs each is pinned to unless
    its start says otherwise (None: wherever the OS puts it)."""

    root: Path
    processes: list[ManagedProcess] = field(default_factory=list)
    cpus: frozenset[int] | None = None
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        health: HealthCheck | None = None,
        timeout: float = 30.0,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
        ports: tuple[int, ...] = (),
        cpus: Collection[int] | None = None,
    ) -> ManagedProcess:
        """Start `argv` and wait until `health` passes (or the deadline, or the process dies);
        `cpus` pins it elsewhere than the supervisor's own set."""
        if any(p.name == name for p in self.processes):
            raise HarnessError(f"a process named {name!r} is already running in this deployment")
        pinned = frozenset(cpus) if cpus is not None else self.cpus
        launch = Launch(tuple(argv), dict(env or {}), cwd, user, health, timeout, pinned)
        log_path = self.root / "logs" / f"{name}.log"
        proc = ManagedProcess(name, _spawn(name, launch, log_path, stop_signal), log_path,
                              stop_signal, ports, launch)
        self.processes.append(proc)
        if health is not None:
            self.wait_healthy(proc, health, timeout)
        return proc

    def restart(self, name: str, timeout: float = 10.0,
                abort: threading.Event | None = None) -> ManagedProcess:
        """Start `name` again as it was first started, in the same place in the stop order; stop
        it first if it still runs. Returns once it is healthy; `abort` ends the wait early."""
        proc = self.get(name)
        if proc.launch is None:
            raise HarnessError(f"{name} cannot be restarted: how it was started is unknown")
        if self._closed:
            raise HarnessError(f"{name} is not restarted: the deployment is being stopped")
        if proc.running():
            _stop(proc, timeout)
        else:
            proc.popen.wait()
        with open(proc.log_path, "ab") as log:
            log.write(f"\n--- archbench: restarting {name} ---\n".encode())
        proc.popen = self._spawner().submit(
            _spawn, name, proc.launch, proc.log_path, proc.stop_signal).result()
        proc.restarts += 1
        if proc.launch.health is not None:
            self.wait_healthy(proc, proc.launch.health, proc.launch.timeout, abort)
        return proc

    def _spawner(self) -> ThreadPoolExecutor:
        """The thread restarts are started from. The parent-death signal fires when the *thread*
        that forked a child ends, so a process restarted from a short-lived thread (a fault's)
        would be killed with it; this one lives until `stop_all`."""
        if self._executor is None:
            with signals_blocked():  # its thread, created by the first submit, inherits the mask
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")
                self._executor.submit(lambda: None).result()
        return self._executor

    def kill(self, name: str) -> int:
        """SIGKILL `name` and every process it started (a crash, not a shutdown); returns how
        many processes were killed. The process stays in the list, dead, until restarted."""
        proc = self.get(name)
        with frozen(proc) as tree:  # frozen first: nothing can fork or restart a child meanwhile
            for member in tree:
                with contextlib.suppress(psutil.Error, OSError):
                    member.send_signal(signal.SIGKILL)
        proc.popen.wait(10)
        return len(tree)

    def wait_healthy(self, proc: ManagedProcess, health: HealthCheck, timeout: float,
                     abort: threading.Event | None = None) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            if abort is not None and abort.is_set():
                raise HarnessError(f"stopped waiting for {proc.name} to be healthy")
            if not proc.running():
                raise HarnessError(
                    f"{proc.name} exited with code {proc.popen.returncode} before it was healthy; "
                    f"log {proc.log_path}:\n{proc.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if health():
                    return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"{proc.name} was not healthy within {timeout:.0f} s; "
                    f"log {proc.log_path}:\n{proc.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def get(self, name: str) -> ManagedProcess:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(name)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        proc = self.get(name)
        _stop(proc, timeout)
        self.processes.remove(proc)

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every process, newest first, within about `timeout` seconds in total; each gets
        at least 2 s of its own so the infrastructure stopped last can still shut down cleanly."""
        with signals_blocked():
            self._closed = True  # no restart from another thread may start anything now
            deadline = time.monotonic() + timeout
            while self.processes:
                proc = self.processes.pop()
                try:
                    _stop(proc, max(2.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:  # not even SIGKILL worked: report, go on
                    continue
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def _spawn(name: str, launch: Launch, log_path: Path, stop_signal: int) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                list(launch.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **launch.env},
                cwd=launch.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent(stop_signal, launch.cpus),
                **_identity(launch.user),
            )
        except FileNotFoundError as exc:
            raise HarnessError(f"cannot start {name}: {launch.argv[0]} not found") from exc


@contextlib.contextmanager
def frozen(managed: ManagedProcess) -> Iterator[list[psutil.Process]]:
    """SIGSTOP a supervised process and all its descendants, SIGCONT them whatever happens.

    The root is stopped first, so it cannot fork a child that escapes; descendants are listed
    until none is left running (postgres backends call setsid(), so the root's process group
    alone would leave them running). Yields the frozen processes, root first.

    If this process is SIGKILLed meanwhile, the frozen ones stay stopped: their parent-death
    signal waits, pending, for a SIGCONT that nobody sends (a SIGKILL still ends them)."""
    if not managed.running():  # its pid may already be reaped and reused: never signal it
        raise HarnessError(f"{managed.name} is not running")
    try:
        root = psutil.Process(managed.pid)
    except psutil.NoSuchProcess:
        raise HarnessError(f"{managed.name} is not running") from None
    tree: list[psutil.Process] = []
    try:
        fresh = [root]
        while fresh:
            for proc in fresh:
                tree.append(proc)  # before the signal: whatever was stopped gets SIGCONT
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.send_signal(signal.SIGSTOP)
            fresh = [c for c in _descendants(root) if c not in tree]
        yield tree
    finally:
        with signals_blocked():
            for proc in reversed(tree):  # every one, whatever fails for another
                with contextlib.suppress(psutil.Error, OSError):
                    proc.send_signal(signal.SIGCONT)


def _descendants(root: psutil.Process) -> list[psutil.Process]:
    try:
        return root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _identity(user: str | None) -> dict[str, object]:
    """Popen arguments to run as `user` with only its own group (root's groups would leak in)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def run_as(user: str | None, argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess:
    """`subprocess.run` as `user` (None: as ourselves)."""
    return subprocess.run(list(argv), check=False, **_identity(user), **kwargs)  # type: ignore[call-overload]


def _stop(proc: ManagedProcess, timeout: float) -> None:
    """Polite signal, wait, then SIGKILL; then SIGKILL whatever the process had started and left
    behind (listed before it was signalled: once it is gone its orphans are nobody's children)."""
    if proc.running():
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
        with contextlib.suppress(ProcessLookupError):
            proc.popen.send_signal(proc.stop_signal)
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.popen.kill()
            proc.popen.wait(5)
        _, orphans = psutil.wait_procs(children, timeout=2)
        for orphan in orphans:
            with contextlib.suppress(psutil.Error):
                orphan.kill()
        psutil.wait_procs(orphans, timeout=2)
    else:
        proc.popen.wait()


def start_quietly(thread: threading.Thread) -> threading.Thread:
    """Start a helper thread with SIGINT/SIGTERM blocked in it (a thread inherits the mask of
    the thread that starts it), so that they always reach the main thread: the kernel may hand a
    process-directed signal to any thread that does not block it, and `signals_blocked` in the
    main thread would then not hold it."""
    with signals_blocked():
        thread.start()
    return thread


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while tearing down, so a second Ctrl-C cannot strand a child. Every
    other thread must block them too (`start_quietly`), or the kernel delivers them there."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt in the main thread, so `finally` blocks
    tear everything down. SIGINT is set explicitly: a shell starting us in the background
    leaves it ignored, and a user's `kill -INT` must still stop the deployment."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
