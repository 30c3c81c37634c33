"""The command line builds a ProviderConfig and refuses bad values with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.payment_provider.__main__ import config_from_args
from apps.payment_provider.latency import FixedLatency, LognormalLatency


def test_defaults() -> None:
    config = config_from_args(["--port", "9000"])
    assert config.host == "127.0.0.1"
    assert config.port == 9000
    assert config.latency == FixedLatency(0.005)
    assert config.decline_rate == 0.0
    assert config.seed == 0
    assert config.ledger_path is None


def test_every_option() -> None:
    config = config_from_args(
        [
            "--host", "127.0.0.2",
            "--port", "9001",
            "--latency", "lognormal:0.01,0.4",
            "--decline-rate", "0.25",
            "--seed", "11",
            "--ledger", "/tmp/ledger.jsonl",
        ]
    )  # fmt: skip
    assert config.host == "127.0.0.2"
    assert config.latency == LognormalLatency(0.01, 0.4)
    assert config.decline_rate == 0.25
    assert config.seed == 11
    assert config.ledger_path == Path("/tmp/ledger.jsonl")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latency", "gaussian:1"], "argument --latency: bad latency spec 'gaussian:1'"),
        (["--latency", "fixed:-1"], "SECONDS must be >= 0"),
        (["--decline-rate", "1.5"], "argument --decline-rate: '1.5' is not within [0, 1]"),
        (["--port", "http"], "argument --port"),
    ],
)
def test_bad_values_exit_with_a_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        config_from_args(["--port", "9000", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_port_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        config_from_args([])
    assert "--port" in capsys.readouterr().err
