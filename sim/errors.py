"""The simulation's own error: a calibration or what-if it cannot use, said in one line."""


class SimError(Exception):
    """A one-line error of the simulation; the CLI prints it without a traceback."""
