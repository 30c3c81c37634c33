"""Settings enter a process here only, from the environment the harness sets.

Precedence (README): scenario file < environment < command line; the harness and each app's
`serve` command resolve the first and last into these variables.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TypeVar, get_type_hints

T = TypeVar("T")
PREFIX = "ARCHBENCH_"


def from_env(cls: type[T], who: str, env: Mapping[str, str] | None = None) -> T:
    """An instance of the dataclass `cls`, each field `name` read from ARCHBENCH_<NAME>.

    A field without a default is required: a process missing one stops with a message naming
    every variable to set. Values are converted to the field's annotated type.
    """
    env = os.environ if env is None else env
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    missing = [_variable(f.name) for f in fields
               if f.default is dataclasses.MISSING and not env.get(_variable(f.name))]
    if missing:
        raise SystemExit(f"{who}: set {', '.join(missing)}")
    values = {f.name: hints[f.name](env[_variable(f.name)])
              for f in fields if _variable(f.name) in env}
    return cls(**values)


def _variable(field: str) -> str:
    return PREFIX + field.upper()
