"""Which code wrote each file of a result folder: `provenance.json` beside run.json, and paths
written into result files relative to the project, never of the machine that wrote them.

Every file of a run folder was written by the run, whose revision environment.json records,
unless provenance.json lists it: a file a later command wrote again (`archbench report`,
`archbench scorecard`) is listed with the revision that wrote it, when, by which command, and
`regenerated: true`. The revision is read from the checkout's git files (no process is started):
HEAD's commit; uncommitted changes are not marked here, environment.json marks them `+dirty`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.config.architectures import PROJECT_ROOT
from harness.results.files import write_json_atomic

PROVENANCE_FILE = "provenance.json"
UNKNOWN = "unknown"
RUN_COMMAND = "archbench run"  # what writes a run folder first; any other writer regenerates


def revision(root: Path = PROJECT_ROOT) -> str:
    """The commit HEAD points at in the checkout `root` (a worktree too), "unknown" outside one."""
    try:
        git = _git_dir(root / ".git")
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head  # a detached HEAD holds the commit itself
        common = _common_dir(git)
        ref = head.removeprefix("ref: ")
        for folder in (git, common):
            if (folder / ref).is_file():
                return (folder / ref).read_text().strip()
        for line in (common / "packed-refs").read_text().splitlines():
            commit, _, name = line.partition(" ")
            if name == ref:
                return commit
    except OSError:
        pass
    return UNKNOWN


def _git_dir(dot_git: Path) -> Path:
    if dot_git.is_file():  # a worktree: "gitdir: <its folder under the main .git>"
        return Path(dot_git.read_text().strip().removeprefix("gitdir: "))
    return dot_git


def _common_dir(git: Path) -> Path:
    common = git / "commondir"
    return (git / common.read_text().strip()).resolve() if common.is_file() else git


def portable(path: Path | str, root: Path = PROJECT_ROOT) -> str:
    """`path` as a result file may record it: relative to `root` (the project) when inside it,
    otherwise its name alone, never an absolute path of this machine."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def stamp(by: str) -> dict[str, Any]:
    """Who writes a file now: this checkout's revision, the time, the command, and whether it
    writes again what the run wrote (any command but the run's own)."""
    return {"revision": revision(), "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "by": by, "regenerated": by != RUN_COMMAND}


def read(folder: Path) -> dict[str, Any]:
    """provenance.json of `folder`: {"run": {"revision"}, "files": {path: stamp}, "notes": [...]
    (changes made by hand, if any)}; a folder without one has every file from its run."""
    path = folder / PROVENANCE_FILE
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        found = {}
    found = found if isinstance(found, dict) else {}
    files, notes = found.get("files"), found.get("notes")
    return {"run": {"revision": _run_revision(folder)},
            "files": files if isinstance(files, dict) else {},
            **({"notes": notes} if isinstance(notes, list) and notes else {})}


def record(folder: Path, written: Iterable[Path], by: str) -> dict[str, Any]:
    """Note in `folder`'s provenance.json that `by` just wrote `written` (paths inside `folder`);
    returns the stamp it recorded."""
    now = stamp(by)
    provenance = read(folder)
    for path in written:
        provenance["files"][Path(path).relative_to(folder).as_posix()] = now
    provenance["files"] = dict(sorted(provenance["files"].items()))
    write_json_atomic(folder / PROVENANCE_FILE, provenance)
    return now


def _run_revision(folder: Path) -> str:
    try:
        return str(json.loads((folder / "environment.json").read_text()).get("git_revision", UNKNOWN))
    except (OSError, ValueError, AttributeError):
        return UNKNOWN
