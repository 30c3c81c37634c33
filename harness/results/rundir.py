"""Reading a run folder written by the runner: run.json, the environment, and one `Run` per measured
architecture x repeat x step. A run without load/summary.json is listed as missing, never fatal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hdrh.histogram import HdrHistogram

from harness.config.errors import HarnessError

WINDOW_COLUMNS = ["window_start_s", "operation", "count", "errors", "p50_ms", "p90_ms", "p99_ms"]
METRIC_COLUMNS = ["t", "component", "cpu_s", "rss_bytes"]


@dataclass(frozen=True)
class Run:
    """One measured architecture x repeat x step, as found on disk."""

    architecture: str
    repeat: int
    step: int
    path: Path
    info: dict[str, Any]
    summary: dict[str, Any]
    histograms: dict[str, HdrHistogram]
    windows: pd.DataFrame
    metrics: pd.DataFrame
    overhead: dict[str, Any] | None
    readlag: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.architecture} r{self.repeat} s{self.step}"


@dataclass(frozen=True)
class MissingRun:
    architecture: str
    repeat: int
    step: int
    reason: str

    @property
    def label(self) -> str:
        return f"{self.architecture} r{self.repeat} s{self.step}"


@dataclass(frozen=True)
class RunFolder:
    path: Path
    meta: dict[str, Any]
    scenario: dict[str, Any]
    environment: dict[str, Any]
    runs: list[Run]
    missing: list[MissingRun]
    notes: list[str]

    @property
    def complete(self) -> bool:
        return self.meta.get("status") == "complete" and not self.missing and not any(
            r.summary.get("interrupted") or r.info.get("status") == "incomplete" for r in self.runs
        )

    @property
    def warmup_s(self) -> float | None:
        value = self.meta.get("warmup_s")
        return float(value) if value is not None else None


def load_run_folder(path: Path) -> RunFolder:
    """Read a run folder; a HarnessError (one line) if it is not one or its run.json is truncated."""
    path = Path(path)
    if not path.is_dir():
        raise HarnessError(f"{path} is not a directory: give the folder that `archbench run` wrote")
    meta = _read_json(path / "run.json", required=True, what="run folder")
    if not isinstance(meta, dict):
        raise HarnessError(f"{path / 'run.json'} is not a JSON object: the run folder is truncated")
    notes: list[str] = []
    scenario = _read_scenario(path / "scenario.yaml", notes)
    environment = _read_json(path / "environment.json", required=False, what="environment") or {}
    if not environment:
        notes.append("environment.json is missing: machine and git revision unknown")
    runs: list[Run] = []
    missing: list[MissingRun] = []
    for architecture, repeat, step, run_path in _planned_runs(path, meta):
        reason = _missing_reason(run_path)
        if reason:
            missing.append(MissingRun(architecture, repeat, step, reason))
            continue
        try:
            runs.append(_read_run(architecture, repeat, step, run_path))
        except _Unreadable as exc:
            missing.append(MissingRun(architecture, repeat, step, str(exc)))
    return RunFolder(path, meta, scenario, environment, runs, missing, notes)


# What every finished run leaves behind, and which of it is written line by line.
RUN_FILES = ("info.json", "load/summary.json", "load/windows.csv", "metrics.csv")


def ensure_intact(path: Path) -> None:
    """A one-line HarnessError if a run folder is truncated: run.json unreadable, or a run it
    lists as finished lacking a file, holding broken JSON, or ending a CSV mid-line. Runs that
    were planned but never finished are not damage (an interrupted run); the report says so."""
    meta = _read_json(Path(path) / "run.json", required=True, what="run folder")
    if not isinstance(meta, dict) or not isinstance(meta.get("runs", []), list):
        raise HarnessError(f"{path / 'run.json'} is not a run folder's run.json: it is truncated")
    for entry in meta.get("runs", []):
        run_path = Path(path) / str(entry.get("path", "")) if isinstance(entry, dict) else None
        if run_path is None or not run_path.is_dir():
            raise HarnessError(f"{path} is truncated: run.json lists {entry!r} as finished but "
                               "its folder is missing")
        optional = [n for n in ("check.json", "faults.json", "load/requests.csv", "backlog.csv")
                    if (run_path / n).exists()]
        for name in (*RUN_FILES, *optional):
            file = run_path / name
            where = file.relative_to(path)
            if not file.is_file():
                raise HarnessError(f"{path} is truncated: {where} is missing")
            data = file.read_bytes()
            if name.endswith(".csv") and not data.endswith(b"\n"):
                raise HarnessError(f"{path} is truncated: {where} ends mid-line")
            if name.endswith(".json"):
                try:
                    json.loads(data)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise HarnessError(f"{path} is truncated: {where} is not valid JSON") from None


class _Unreadable(Exception):
    pass


def _planned_runs(root: Path, meta: dict[str, Any]) -> list[tuple[str, int, int, Path]]:
    """Every run the runner planned ("planned", when it wrote one) or finished ("runs"), once each."""
    entries = meta.get("runs")
    if isinstance(meta.get("planned"), list):
        entries = [*meta["planned"], *(entries if isinstance(entries, list) else [])]
    if entries is None:  # an early run.json: discover what is on disk
        return [
            (p.parent.parent.name, int(p.parent.name[1:]), int(p.name[1:]), p)
            for p in sorted(root.glob("runs/*/r*/s*"))
            if p.is_dir() and p.name[1:].isdigit() and p.parent.name[1:].isdigit()
        ]
    if not isinstance(entries, list):
        raise HarnessError(f"{root / 'run.json'}: 'runs' must be a list; the run folder is damaged")
    planned = []
    seen: set[tuple[str, int, int]] = set()
    for entry in entries:
        try:
            architecture, repeat, step = str(entry["architecture"]), int(entry["repeat"]), int(entry["step"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HarnessError(f"{root / 'run.json'}: a run entry lacks architecture/repeat/step") from exc
        default = Path("runs") / architecture / f"r{repeat}" / f"s{step}"
        run_path = root / Path(entry.get("path") or default)
        if (architecture, repeat, step) not in seen:
            seen.add((architecture, repeat, step))
            planned.append((architecture, repeat, step, run_path))
    return planned


def _missing_reason(run_path: Path) -> str | None:
    if not run_path.is_dir():
        return "not started"
    if not (run_path / "load" / "summary.json").is_file():
        return "load/summary.json missing"
    return None


def _read_run(architecture: str, repeat: int, step: int, run_path: Path) -> Run:
    notes: list[str] = []
    try:
        summary = _read_json(run_path / "load" / "summary.json", required=True, what="load summary")
    except HarnessError as exc:
        raise _Unreadable("load/summary.json unreadable") from exc
    if not isinstance(summary, dict):
        raise _Unreadable("load/summary.json is not a JSON object")
    info = _optional_json(run_path / "info.json", notes) or {}
    if not info:
        notes.append("info.json missing: measurement window unknown, CPU not computed")
    histograms = {}
    for hdr in sorted((run_path / "load" / "histograms").glob("*.hdr")):
        try:
            histograms[hdr.stem] = HdrHistogram.decode(hdr.read_bytes().strip())
        except Exception:  # the codec raises binascii, zlib, struct and value errors alike
            notes.append(f"histogram {hdr.name} unreadable: its percentiles come from load/summary.json")
    return Run(
        architecture=architecture,
        repeat=repeat,
        step=step,
        path=run_path,
        info=info,
        summary=summary,
        histograms=histograms,
        windows=_read_csv(run_path / "load" / "windows.csv", WINDOW_COLUMNS, notes),
        metrics=_read_csv(run_path / "metrics.csv", METRIC_COLUMNS, notes),
        overhead=_optional_json(run_path / "overhead.json", notes),
        readlag=_optional_json(run_path / "readlag.json", notes),
        notes=notes,
    )


def _read_json(path: Path, *, required: bool, what: str) -> Any:
    if not path.is_file():
        if required:
            raise HarnessError(f"{path.parent} is not a {what}: {path.name} is missing")
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path} is not valid JSON (truncated?): {exc}") from exc


def _optional_json(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        value = _read_json(path, required=False, what="")
    except HarnessError:
        notes.append(f"{path.name} unreadable")
        return None
    return value if isinstance(value, dict) else None


def _read_csv(path: Path, columns: list[str], notes: list[str]) -> pd.DataFrame:
    empty = pd.DataFrame({c: pd.Series(dtype="object" if c in ("operation", "component") else "float64")
                          for c in columns})
    if not path.is_file():
        notes.append(f"{path.name} missing")
        return empty
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        notes.append(f"{path.name} unreadable")
        return empty
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        notes.append(f"{path.name} lacks columns {', '.join(absent)}")
        return empty
    return frame


def _read_scenario(path: Path, notes: list[str]) -> dict[str, Any]:
    if not path.is_file():
        notes.append("scenario.yaml is missing: the default SLO applies")
        return {}
    try:
        value = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        notes.append("scenario.yaml unreadable: the default SLO applies")
        return {}
    return value if isinstance(value, dict) else {}
