"""The one error type the harness raises for problems a user can fix; the CLI prints it on one line."""


class HarnessError(Exception):
    """Something the user can act on: a missing binary, a port in use, a bad scenario."""
