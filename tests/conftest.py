"""Shared fixtures: tiny synthetic data options, the shared data folder, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# A synthetic dataset small enough for end-to-end CLI tests (seconds, not minutes).
TINY = {
    "num_items": 300,
    "num_query": 40,
    "num_train": 120,
    "image_dim": 32,
    "vocab_size": 80,
    "num_classes": 8,
}


def tiny_options() -> list[str]:
    out = []
    for key, value in TINY.items():
        out += ["--dataset-option", f"{key}={value}"]
    return out


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (only in the developers' checkout)")
    return SHARED_DATA


@pytest.fixture
def cli():
    from click.testing import CliRunner

    from xbench.cli import main

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke
