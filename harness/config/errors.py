"""The one error type the harness raises for problems a user can fix; the CLI prints it on one line."""

from __future__ import annotations

import pydantic


class HarnessError(Exception):
    """Something the user can act on: a missing binary, a port in use, a bad scenario."""


def describe(exc: pydantic.ValidationError, within: tuple[str, ...] = ()) -> str:
    """One line per problem: `dataset.hotels: Input should be greater than or equal to 1`; `within`
    prefixes each path (the table a registry entry came from)."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in (*within, *err["loc"]))
        message = ("unknown key" if err["type"] == "extra_forbidden"
                   else err["msg"].removeprefix("Value error, "))
        # a check across keys names its own keys in the message
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
