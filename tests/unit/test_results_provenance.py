"""Committed results say which code wrote each file, and hold no path of the machine that wrote
them; provenance.json is kept by the writers (harness/results/provenance.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.results import provenance
from tests.support.paths import ROOT

# an absolute path of some machine's home, scratch or working folders
MACHINE_PATH = re.compile(r"(?<![\w.:/-])(?:/(?:work|home|tmp|root|Users|private/var|var/folders|"
                          r"mnt|opt/[\w.-]+/home)/|[A-Za-z]:\\\\?(?:Users|Windows)\\)")
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
OPAQUE = {".png", ".hdr"}  # pictures and encoded histograms: no text a reader sees


def committed_results() -> list[Path]:
    """Every file under results/ that .gitignore lets git keep (`!results/...` entries)."""
    kept = [line[1:].rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()
            if line.startswith("!results/")]
    files: list[Path] = []
    for entry in kept:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return files


def committed_runs() -> list[Path]:
    return sorted({p.parent for p in committed_results() if p.name == "run.json"})


def test_the_scan_finds_the_committed_runs() -> None:
    assert ROOT / "results" / "sample" in committed_runs()
    assert len(committed_results()) > 100


@pytest.mark.parametrize("text", ["/work/main/harness/audit/claims.yaml", '"/tmp/sample/runs"',
                                  "see /home/ann/x", "C:\\Users\\ann\\run", "/root/.cache/x"])
def test_a_machine_path_is_recognised(text: str) -> None:
    assert MACHINE_PATH.search(text)


@pytest.mark.parametrize("text", ["results/sample/runs", "harness/audit/claims.yaml",
                                  "https://example.org/home/page", "runs/monolith/r0/s0"])
def test_a_path_inside_the_project_is_not_a_machine_path(text: str) -> None:
    assert not MACHINE_PATH.search(text)


def test_no_committed_result_holds_a_path_of_the_machine_that_wrote_it() -> None:
    found = []
    for path in committed_results():
        if path.suffix in OPAQUE:
            continue
        try:
            text = DATA_URI.sub("", path.read_text())
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}…" for m in MACHINE_PATH.finditer(text)]
    assert found == []


def test_every_committed_run_says_which_revision_wrote_each_file() -> None:
    for run in committed_runs():
        recorded = provenance.read(run)
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", recorded["run"]["revision"]), run
        for name, stamp in recorded["files"].items():
            assert (run / name).is_file(), f"{run.name}/{name} is listed but absent"
            assert re.fullmatch(r"[0-9a-f]{40}", stamp["revision"]), f"{run.name}/{name}"
        # what a later command wrote again says so, in provenance.json and in the file itself
        for name in ("report.md", "scorecard.json"):
            if (run / name).is_file() and (run / name).stat().st_size:
                assert name in recorded["files"], f"{run.name}/{name}: which code wrote it?"
        if (run / "scorecard.json").is_file():
            assert "revision" in json.loads((run / "scorecard.json").read_text())["provenance"]
        assert "Report written by revision" in (run / "report.md").read_text()


def _fake_git(root: Path, head: str, refs: dict[str, str], packed: str = "") -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head + "\n")
    for name, commit in refs.items():
        (git / name).write_text(commit + "\n")
    if packed:
        (git / "packed-refs").write_text(packed)
    return git


def test_the_revision_is_read_from_the_checkout_without_starting_git(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    _fake_git(loose, "ref: refs/heads/main", {"refs/heads/main": "a" * 40})
    assert provenance.revision(loose) == "a" * 40
    packed = tmp_path / "packed"
    _fake_git(packed, "ref: refs/heads/main", {},
              f"# pack-refs with: peeled\n{'b' * 40} refs/heads/main\n")
    assert provenance.revision(packed) == "b" * 40
    detached = tmp_path / "detached"
    _fake_git(detached, "c" * 40, {})
    assert provenance.revision(detached) == "c" * 40
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    git = _fake_git(tmp_path / "main", "ref: refs/heads/main", {"refs/heads/topic": "d" * 40})
    (git / "worktrees" / "worktree").mkdir(parents=True)
    (git / "worktrees" / "worktree" / "HEAD").write_text("ref: refs/heads/topic\n")
    (git / "worktrees" / "worktree" / "commondir").write_text("../..\n")
    (worktree / ".git").write_text(f"gitdir: {git / 'worktrees' / 'worktree'}\n")
    assert provenance.revision(worktree) == "d" * 40
    assert provenance.revision(tmp_path / "nowhere") == "unknown"


def test_a_path_is_recorded_relative_to_the_project_or_by_its_name() -> None:
    assert provenance.portable(ROOT / "harness" / "audit" / "claims.yaml") == \
        "harness/audit/claims.yaml"
    assert provenance.portable(Path("/somewhere/else/mine.yaml")) == "mine.yaml"
    assert provenance.portable(Path("results/sample")) == "results/sample"


def test_a_rewritten_file_is_recorded_as_regenerated_unless_the_run_wrote_it(tmp_path: Path) -> None:
    (tmp_path / "environment.json").write_text(json.dumps({"git_revision": "e" * 40}))
    for name in ("report.md", "scorecard.json"):
        (tmp_path / name).write_text("x")
    provenance.record(tmp_path, [tmp_path / "report.md"], provenance.RUN_COMMAND)
    provenance.record(tmp_path, [tmp_path / "scorecard.json"], "archbench scorecard")
    recorded = provenance.read(tmp_path)
    assert recorded["run"] == {"revision": "e" * 40}
    assert recorded["files"]["report.md"]["regenerated"] is False
    assert recorded["files"]["scorecard.json"]["regenerated"] is True
    assert recorded["files"]["scorecard.json"]["by"] == "archbench scorecard"
