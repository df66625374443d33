"""The GPU benchmark script runs end to end on the CPU with ``--small`` (its figures are not checked)."""

from __future__ import annotations

import json

import pytest

from xbench.perf import gpu as perf_gpu


def test_perf_gpu_small_on_cpu(tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert (
        perf_gpu.main(
            [
                "--device",
                "cpu",
                "--small",
                "--parts",
                "eval,grid,images",
                "--methods",
                "lsh",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    figures = json.loads(out.read_text())
    assert figures["eval"]["max_abs_diff"] <= 1e-9
    assert set(figures["grid"]["seconds"]) == {"lsh"}
    assert figures["images"]["images_per_s"] > 0
    printed = capsys.readouterr().out
    assert "evaluator" in printed and "Table 2 grid" in printed and "images/s" in printed


def test_perf_gpu_rejects_unknown_part():
    with pytest.raises(SystemExit) as err:
        perf_gpu.main(["--device", "cpu", "--parts", "eval,bogus"])
    assert err.value.code == 2
