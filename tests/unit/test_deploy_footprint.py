"""Lines of configuration are counted the same way for every architecture: one per setting,
whatever the layout of the files, prose and comments left out (harness/deploy/footprint.py)."""

from __future__ import annotations

import tomllib

from harness.config.architectures import spec_of
from harness.deploy.footprint import config_settings

COMPACT = 'name = "a"\ntables = ["x", "y"]\nroutes = ["GET /x", "POST /x"]\n'
SPREAD = '''# a comment is no setting
name = "a"

tables = [
    "x",
    "y",
]
tables_justification = """
x: why x exists.
y: why y exists, at length, over
several lines of prose.
"""
routes = ["GET /x",
          "POST /x"]
'''


def test_a_setting_counts_once_however_the_file_is_laid_out() -> None:
    compact, spread = tomllib.loads(COMPACT), tomllib.loads(SPREAD)
    assert config_settings({}, [compact], []) == config_settings({}, [spread], []) == 5


def test_what_a_process_is_handed_counts_one_line_per_variable_and_option() -> None:
    launch = (("python", "-m", "apps.monolith", "serve", "--port", "1", "--workers", "2"),
              {"ARCHBENCH_DSN": "d", "ARCHBENCH_PAYMENT_URL": "u"})
    assert config_settings({"apps": {"http": {"port": 1, "routes": [1, 2]}}}, [], [launch]) == 3 + 4


def test_every_architecture_counts_its_manifests_the_monolith_included() -> None:
    for name in ("monolith", "microservices"):
        manifests = [tomllib.loads(p.read_text()) for p in spec_of(name).manifest_files()]
        assert manifests and config_settings({}, manifests, []) > 0
