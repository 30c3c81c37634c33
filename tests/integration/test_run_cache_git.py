"""The state of the code a cached result depends on, read from a real git repository: the trees of
the paths it reads and a hash of their uncommitted changes, untracked files included."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.pipeline.cache import source_of

pytestmark = pytest.mark.integration
PATHS = ("sim", "pyproject.toml")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "engine.py").write_text("RATE = 1\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "README.md").write_text("readme\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_a_clean_checkout_has_no_dirty_hash_and_a_tree_per_path(repo: Path) -> None:
    source = source_of(PATHS, repo)
    assert source is not None and source.dirty is None
    assert [path for path, _ in source.trees] == list(PATHS)
    assert all(len(tree) == 40 for _, tree in source.trees)


def test_each_uncommitted_state_of_the_paths_has_its_own_hash(repo: Path) -> None:
    clean = source_of(PATHS, repo)
    engine = repo / "sim" / "engine.py"
    engine.write_text("RATE = 2\n")
    edited = source_of(PATHS, repo)
    engine.write_text("RATE = 3\n")
    edited_again = source_of(PATHS, repo)
    (repo / "sim" / "new.py").write_text("X = 1\n")
    with_untracked = source_of(PATHS, repo)
    assert clean and edited and edited_again and with_untracked
    assert None not in (edited.dirty, edited_again.dirty, with_untracked.dirty)
    assert len({edited.dirty, edited_again.dirty, with_untracked.dirty}) == 3
    assert edited.trees == clean.trees  # the commit is the same: only the diff tells them apart

    (repo / "sim" / "new.py").unlink()
    engine.write_text("RATE = 1\n")
    assert source_of(PATHS, repo) == clean


def test_changes_outside_the_paths_leave_the_state_alone(repo: Path) -> None:
    clean = source_of(PATHS, repo)
    (repo / "README.md").write_text("changed\n")
    (repo / "notes.txt").write_text("untracked\n")
    assert source_of(PATHS, repo) == clean
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "docs")
    after = source_of(PATHS, repo)
    assert after is not None and after.trees == clean.trees and after.revision != clean.revision


def test_a_commit_to_the_paths_changes_their_tree(repo: Path) -> None:
    clean = source_of(PATHS, repo)
    (repo / "sim" / "engine.py").write_text("RATE = 2\n")
    _git(repo, "commit", "-q", "-am", "faster")
    after = source_of(PATHS, repo)
    assert after is not None and after.dirty is None
    assert dict(after.trees)["sim"] != dict(clean.trees)["sim"]
    assert dict(after.trees)["pyproject.toml"] == dict(clean.trees)["pyproject.toml"]


def test_outside_a_git_checkout_nothing_is_cached(tmp_path: Path) -> None:
    assert source_of(PATHS, tmp_path) is None
