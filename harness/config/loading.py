"""Reading scenario files: YAML, `--set KEY=VALUE` overrides, and one-line errors."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic
import yaml

from harness.config.errors import HarnessError, describe
from harness.config.scenario import Scenario


def read_yaml(path: Path, what: str) -> Any:
    """A YAML file's content; an unreadable file or invalid YAML is a one-line HarnessError."""
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise HarnessError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise HarnessError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's error on one line: where it stopped and why (its own text quotes the source over
    several lines, which would break the CLI's one-line error)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(problem.split())


def load_scenario(path: Path | None, overrides: Iterable[str] = ()) -> Scenario:
    """Parse and validate a scenario file (no file means every default), with `KEY=VALUE`
    overrides (`--set`) applied before validation."""
    raw: Any = {}
    if path is not None:
        raw = read_yaml(path, "scenario")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise HarnessError(f"{path}: expected a mapping of keys at the top level")
    overrides = list(overrides)
    raw = apply_overrides(raw, overrides)
    try:
        return Scenario.model_validate(raw)
    except pydantic.ValidationError as exc:
        where = f"{path}" if path is not None else "scenario"
        if overrides:
            where += " with --set " + " ".join(overrides)
        raise HarnessError(f"{where}: {describe(exc)}") from None


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """`key.sub=value` overrides on a scenario mapping; the value is read as YAML (numbers, lists,
    strings). Validation is the schema's; a malformed item is a HarnessError."""
    result = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        path = key.strip().split(".")
        if not sep or any(not part for part in path):
            raise HarnessError(f"--set {item!r}: expected KEY=VALUE with a dotted KEY, "
                               "e.g. sim.cores_per_host=4")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise HarnessError(f"--set {item!r}: the value is not valid YAML") from None
        node = result
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise HarnessError(f"--set {item!r}: {'.'.join(path[:depth + 1])} is a value, "
                                   "not a section")
            node = child
        node[path[-1]] = value
    return result
