"""Faults under load: the scenario's `faults:` injected into a live deployment on schedule, and the
JetStream backlog sampled while they happen.

`Injector` times every fault from the moment the load generator reports its load started
(`load/started.json`), runs each in its own thread (faults on different targets may overlap) and
records what really happened, on the wall clock, in `faults.json`: when the fault began, when it
was lifted (the restarted process healthy again, SIGCONT sent, the provider's latency restored),
how many processes a kill took down, and any error. Leaving the block lifts every fault still
holding: a paused process is resumed and a slowed provider restored, also on Ctrl-C. A killed
process that is not to be restarted stays down until the load ends; the runner then starts it
again, so that the invariant check sees the system recovered.

`BacklogSampler` polls NATS' monitoring endpoint (`/jsz`) twice a second into `backlog.csv`: per
durable consumer, messages not yet delivered (`num_pending`) and delivered but not acknowledged
(`num_ack_pending`). While the broker itself is down there is no row: the gap is the outage.
"""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from harness.config.errors import HarnessError
from harness.config.scenario import Fault
from harness.deploy.deployment import Deployment
from harness.deploy.nats import jsz_streams
from harness.deploy.supervisor import ManagedProcess, frozen, start_quietly
from harness.results.files import write_json_atomic
from harness.results.resilience import BACKLOG_INTERVAL_S

STARTED_TIMEOUT_S = 120.0
FAULTS_FILE = "faults.json"
BACKLOG_FILE = "backlog.csv"


class Injector:
    """Inject `faults` (each with its index in the scenario) into `dep`, timed from the epoch
    written to `started_file`."""

    def __init__(self, dep: Deployment, faults: list[tuple[int, Fault]], started_file: Path,
                 out: Path, *,
                 normal_latency: str, on_restart: Callable[[ManagedProcess], None]) -> None:
        self.dep = dep
        self.faults = [fault for _, fault in faults]  # `index`: its place in the scenario
        self.started_file = started_file
        self.out = out
        self.normal_latency = normal_latency
        self.on_restart = on_restart
        self.stop = threading.Event()
        self.records: list[dict[str, Any]] = [
            {"index": i, "action": f.action, "target": f.target, "at_s": f.at_s,
             "duration_s": f.duration_s, "restart": f.restart if f.action == "kill" else None,
             "latency": f.latency, "started_epoch": None, "ended_epoch": None,
             "processes_killed": None, "processes_paused": None, "restart_s": None,
             "error": None}
            for i, f in faults]
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.origin: float | None = None

    def __enter__(self) -> Injector:
        if self.faults:  # a run without faults gets no faults.json
            self._threads.append(start_quietly(
                threading.Thread(target=self._schedule, name="faults", daemon=True)))
            self._write()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()  # every wait ends: paused processes resume, the provider is restored,
        # a restart stops waiting for health; so these joins are short
        for thread in list(self._threads):
            thread.join()
        if self.faults:
            self._write()

    def killed_for_good(self) -> list[str]:
        """Targets a kill took down and nothing started again (restart: false, or the run ended
        first)."""
        return [r["target"] for r in self.records
                if r["action"] == "kill" and r["started_epoch"] and r["ended_epoch"] is None]

    def _schedule(self) -> None:
        deadline = time.monotonic() + STARTED_TIMEOUT_S
        while not self.started_file.exists():
            if self.stop.wait(0.05):
                return
            if time.monotonic() > deadline:
                for index in range(len(self.records)):
                    self._set(index, error=f"the load never started ({self.started_file} "
                                           f"missing after {STARTED_TIMEOUT_S:.0f} s): not injected")
                return
        self.origin = float(json.loads(self.started_file.read_text())["epoch_s"])
        for index, fault in enumerate(self.faults):  # this thread's mask is inherited
            thread = threading.Thread(target=self._inject, args=(index, fault),
                                      name=f"fault-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _inject(self, index: int, fault: Fault) -> None:
        assert self.origin is not None
        if self.stop.wait(max(0.0, self.origin + fault.at_s - time.time())):
            return
        try:
            getattr(self, f"_{fault.action}")(index, fault)
        except Exception as exc:  # recorded: the run goes on, the report shows it
            self._set(index, error=f"{type(exc).__name__}: {exc}")

    def _set(self, index: int, **values: Any) -> None:
        """Change a fault's record and rewrite faults.json, under the lock every writer takes."""
        with self._lock:
            self.records[index].update(values)
        self._write()

    def _kill(self, index: int, fault: Fault) -> None:
        self._set(index, started_epoch=time.time())
        self._set(index, processes_killed=self.dep.supervisor.kill(fault.target))
        if not fault.restart or self.stop.wait(fault.duration_s):
            return  # stays down (an interrupt: the teardown follows; the end of the load: the
            # runner starts it again before the invariant check)
        self._restart_now(index, fault.target)

    def _restart(self, index: int, fault: Fault) -> None:
        self._set(index, started_epoch=time.time())
        self._restart_now(index, fault.target)

    def _restart_now(self, index: int, target: str) -> None:
        began = time.monotonic()
        proc = self.dep.supervisor.restart(target, abort=self.stop)
        self._set(index, restart_s=round(time.monotonic() - began, 3), ended_epoch=time.time())
        self.on_restart(proc)

    def _pause(self, index: int, fault: Fault) -> None:
        with frozen(self.dep.supervisor.get(fault.target)) as tree:
            self._set(index, started_epoch=time.time(), processes_paused=len(tree))
            self.stop.wait(fault.duration_s)
        self._set(index, ended_epoch=time.time())

    def _slow(self, index: int, fault: Fault) -> None:
        assert fault.latency is not None
        self._set_latency(fault.latency)
        self._set(index, started_epoch=time.time())
        try:
            self.stop.wait(fault.duration_s)
        finally:
            self._set_latency(self.normal_latency)
        self._set(index, ended_epoch=time.time())

    def _set_latency(self, spec: str) -> None:
        url = f"{self.dep.endpoints['payment_provider']}/admin/latency"
        response = httpx.post(url, json={"latency": spec}, timeout=5)
        if response.status_code != 200:
            raise HarnessError(f"the payment provider refused latency {spec!r}: "
                               f"{response.status_code} {response.text[:200]}")

    def _write(self) -> None:
        with self._lock:
            data = {"origin_epoch": self.origin, "faults": self.records}
            write_json_atomic(self.out / FAULTS_FILE, data)


class BacklogSampler:
    """Consumer backlog of the deployment's JetStream over time, into `path` (CSV)."""

    def __init__(self, monitor_url: str, path: Path, interval_s: float = BACKLOG_INTERVAL_S) -> None:
        self.monitor_url = monitor_url
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backlog", daemon=True)

    def __enter__(self) -> BacklogSampler:
        start_quietly(self._thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with self.path.open("w", newline="") as f, httpx.Client(timeout=1.0) as client:
            writer = csv.writer(f)
            writer.writerow(["epoch_s", "consumer", "num_pending", "num_ack_pending",
                             "num_redelivered"])
            while not self._stop.wait(self.interval_s):
                for row in _consumer_rows(client, self.monitor_url):
                    writer.writerow(row)
                f.flush()


def _consumer_rows(client: httpx.Client, monitor_url: str) -> Iterator[list[object]]:
    now = time.time()
    with contextlib.suppress(httpx.HTTPError, ValueError):
        body = client.get(f"{monitor_url}/jsz", params={"consumers": "true"}).json()
        for stream in jsz_streams(body):
            for consumer in stream.get("consumer_detail", []):
                yield [f"{now:.3f}", f"{stream['name']}/{consumer['name']}",
                       consumer.get("num_pending", 0), consumer.get("num_ack_pending", 0),
                       consumer.get("num_redelivered", 0)]
