"""Results kept between runs: the steps whose result depends on the code and the scenario but not
on a run's measurements (the live audit of an architecture, the engine against queueing theory)
are measured once and reused while nothing they depend on changes.

An entry's key is a hash of the git trees of the folders the step reads (so a commit that touches
only the README keeps it), of the uncommitted changes to those folders (the diff against HEAD and
every untracked file there: a dirty work tree never matches an entry of the clean one, nor of
another dirty state), of the versions it runs on, and of the scenario keys it reads. Outside a git
checkout nothing is cached. Entries live in `.archbench-cache/` of the checkout (git-ignored),
or in $ARCHBENCH_CACHE_DIR; deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.deploy.deployment import PROJECT_ROOT
from harness.pipeline.environment import now
from harness.results.files import write_atomic
from harness.results.provenance import portable

CACHE_ENV = "ARCHBENCH_CACHE_DIR"
FORMAT = 1  # bump when what an entry holds changes meaning


@dataclass(frozen=True)
class Source:
    """The code a step runs: the commit, the git tree (or blob) of each path it reads, and a hash
    of the uncommitted changes to those paths (None: there are none)."""

    revision: str
    trees: tuple[tuple[str, str], ...]
    dirty: str | None

    @property
    def label(self) -> str:
        return self.revision[:12] + (f"+dirty ({self.dirty[:8]})" if self.dirty else "")


def cache_key(step: str, source: Source, inputs: Mapping[str, Any]) -> str:
    """What a result depends on, as one hash: the step, its code and its inputs. The commit itself
    is left out (the trees say everything about the code it reads)."""
    blob = json.dumps({"format": FORMAT, "step": step, "trees": dict(source.trees),
                       "dirty": source.dirty, "inputs": inputs},
                      sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def runtime_versions(packages: Sequence[str]) -> dict[str, str]:
    """Python and the named packages' versions: a result of other versions is another result."""
    found = {"python": platform.python_version()}
    for name in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def source_of(paths: Sequence[str], root: Path = PROJECT_ROOT) -> Source | None:
    """The state of `paths` (relative to the checkout) in git; None outside a git checkout."""
    revision = _git(root, "rev-parse", "--verify", "HEAD")
    if revision is None:
        return None
    trees = []
    for path in paths:
        tree = _git(root, "rev-parse", "--verify", "--quiet", f"HEAD:{path}")
        trees.append((path, tree.decode().strip() if tree else "absent"))
    diff = _git(root, "diff", "HEAD", "--binary", "--no-ext-diff", "--no-color", "--", *paths)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", *paths)
    if diff is None or untracked is None:
        return None
    digest = hashlib.sha256(diff)
    for name in sorted(n for n in untracked.decode().split("\0") if n):
        digest.update(b"\0" + name.encode() + b"\0")
        with contextlib.suppress(OSError):  # gone meanwhile: its name still counts
            digest.update((root / name).read_bytes())
    dirty = digest.hexdigest() if diff or untracked else None
    return Source(revision.decode().strip(), tuple(trees), dirty)


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / ".archbench-cache")


@dataclass(frozen=True)
class Entry:
    payload: Any
    origin: dict[str, Any]  # where it was measured: run folder, revision, date


def load(step: str, key: str) -> Entry | None:
    """The entry under `key`, None when there is none (or it is unreadable: it is measured again)."""
    path = cache_dir() / step / f"{key}.json"
    try:
        raw = json.loads(path.read_text())
        origin = dict(raw["origin"])
        # the origin goes into result files: never a path of this machine (older entries kept one)
        origin["run"] = portable(str(origin.get("run", "")))
        return Entry(raw["payload"], origin)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(step: str, key: str, payload: Any, *, source: Source, run: Path,
          inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Keep `payload` under `key`; returns the origin recorded with it."""
    origin = {"run": portable(run), "revision": source.label, "measured_at": now()}
    folder = cache_dir() / step
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{key}.json", json.dumps(
        {"format": FORMAT, "step": step, "key": key, "origin": origin,
         "trees": dict(source.trees), "dirty": source.dirty, "inputs": inputs,
         "payload": payload}, indent=1, default=str))
    return origin
