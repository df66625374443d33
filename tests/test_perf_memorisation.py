"""``xbench.perf.memorisation``: the per-modality memorisation diagnosis (docs/synthetic-images.md)."""

from __future__ import annotations

import math

import pytest
import torch

from xbench.perf.memorisation import bit_fit, diagnose, main, memorised_share
from xbench.running.config import RunConfig

from .test_synthetic_images import TINY_IMAGES as TINY


def test_memorised_share_counts_rows_strictly_nearer_the_noisy_target():
    noisy = torch.tensor([[1.0, 1, 1, 1]] * 4)
    clean = torch.tensor([[-1.0, -1, -1, -1]] * 4)
    codes = torch.tensor(
        [
            [1.0, 1, 1, 1],  # the noisy target: memorised
            [1.0, 1, 1, -1],  # 1 bit from noisy, 3 from clean: memorised
            [1.0, 1, -1, -1],  # a tie: not memorised
            [-1.0, -1, -1, 1],  # nearer the clean target
        ]
    )
    assert memorised_share(codes, noisy, clean) == 0.5
    assert memorised_share(codes[:2], noisy[:2], clean[:2]) == 1.0
    assert math.isnan(memorised_share(codes[:0], noisy[:0], clean[:0]))


def test_bit_fit_is_the_share_of_equal_bits():
    codes = torch.tensor([[1.0, -1, 1, 1], [1.0, 1, 1, 1]])
    assert bit_fit(codes, torch.ones(2, 4)) == pytest.approx(7 / 8)


def test_diagnose_reports_every_evaluation_in_range():
    config = RunConfig(
        "bce",
        "synthetic-images",
        16,
        noise="symmetric-sample:0.4",
        epochs=3,
        dataset_options=tuple(sorted(TINY.items())),
    )
    rows = diagnose(config, every=2)
    assert [r["epoch"] for r in rows] == [2, 3]
    for row in rows:
        for key in ("i2t", "t2i", "i2i", "t2t", "fit_image", "fit_text"):
            assert 0.0 <= row[key] <= 1.0
        for key in ("memo_image", "memo_text"):
            assert math.isnan(row[key]) or 0.0 <= row[key] <= 1.0


def test_methods_without_target_codes_are_refused():
    with pytest.raises(SystemExit, match="no per-item target codes"):
        main(["--method", "dcmh", "--epochs", "1"] + [f"--dataset-option={k}={v}" for k, v in TINY.items()])
