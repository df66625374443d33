"""`xbench plot`: every kind renders a non-empty PNG and PDF from a small results folder."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from xbench.cli import main
from xbench.errors import XbenchError
from xbench.reporting import plots
from xbench.reporting.results import load_runs

try:
    from test_report_fixtures import make_run
except ImportError:  # pragma: no cover
    from .test_report_fixtures import make_run


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "res"
    for seed in (0, 1):
        for method, v in (("cmmq", 0.7), ("dcmh", 0.6), ("myplugin", 0.5)):
            make_run(
                path,
                method,
                "synthetic",
                16,
                v + 0.01 * seed,
                v - 0.02,
                noise="symmetric:0.6",
                seed=seed,
                with_curves=True,
                history=True,
                losses=method == "cmmq",
            )
        for lam in (0.0, 1.0):
            make_run(
                path,
                "cmmq",
                "synthetic",
                16,
                0.6 + 0.1 * lam,
                0.58 + 0.1 * lam,
                noise="symmetric:0.6",
                seed=seed,
                hparams={"mq_weight": lam},
            )
        make_run(path, "cmmq", "synthetic", 16, 0.75, 0.74, noise="symmetric:0.2", seed=seed)
        make_run(path, "dcmh", "synthetic", 16, 0.65, 0.64, noise="symmetric:0.2", seed=seed)
    return path


EXPECTED = {
    "pr": ["pr_synthetic_16b_symmetric0.6_i2t", "pr_synthetic_16b_symmetric0.6_t2i"],
    "topn": ["topn_synthetic_16b_symmetric0.6_i2t", "topn_synthetic_16b_symmetric0.6_t2i"],
    "recall": ["recall_synthetic_16b_symmetric0.6_i2t", "recall_synthetic_16b_symmetric0.6_t2i"],
    "loss-hist": ["loss-hist_cmmq_synthetic_16b_symmetric0.6_e3"],
    "sensitivity": ["sensitivity_cmmq_mq-weight_synthetic_16b_symmetric0.6"],
    "epochs": ["epochs_synthetic_16b_symmetric0.6"],
    "noise-sweep": ["noise-sweep_synthetic_16b_symmetric"],
    "selection": ["selection_synthetic_16b_symmetric0.6"],
}


def _has_colour(img: np.ndarray, hex_colour: str, tol: float = 0.02, alpha: float = 1.0) -> bool:
    """At least 20 pixels of the colour (drawn with ``alpha`` over white)."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]) * alpha + (1 - alpha)
    return bool((np.abs(img[..., :3] - rgb).max(axis=-1) < tol).sum() > 20)


@pytest.mark.parametrize("kind", plots.KINDS)
def test_every_kind_renders_png_and_pdf(results, tmp_path, kind):
    res = CliRunner().invoke(
        main, ["plot", "--results", str(results), "--kind", kind, "--out", str(tmp_path), "--dpi", "60"]
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.stem for p in tmp_path.glob("*.png"))
    assert names == sorted(EXPECTED[kind])
    for name in names:
        img = imread(tmp_path / f"{name}.png")
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert img[..., :3].std() > 0.05  # not a blank canvas
        pdf = (tmp_path / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    assert not list(tmp_path.glob(".tmp-*"))
    if kind == "selection":  # only cmmq selects samples in the fixture
        img = imread(tmp_path / f"{names[0]}.png")
        assert _has_colour(img, plots.method_color("cmmq"))
        assert not _has_colour(img, plots.method_color("dcmh"))
    if kind in ("pr", "topn", "recall", "epochs"):  # every method drawn in its own fixed colour
        img = imread(tmp_path / f"{names[0]}.png")
        for method in ("cmmq", "dcmh", "myplugin"):
            assert _has_colour(img, plots.method_color(method)), method
    if kind == "loss-hist":
        img = imread(tmp_path / f"{names[0]}.png")
        assert _has_colour(img, plots.CLEAN_COLOR, alpha=plots.HIST_ALPHA)
        assert _has_colour(img, plots.CORRUPTED_COLOR, alpha=plots.HIST_ALPHA)


def test_method_colours_are_fixed_and_colour_blind_safe():
    assert plots.method_color("cmmq") == "#0173b2" and plots.method_color("lsh") == "#949494"
    builtin = [
        plots.method_color(m)
        for m in ("cmmq", "dcmh", "prdh", "ssah", "cmhh", "mrl", "uot-rcl", "lsh", "cmmq-code", "bce")
    ]
    assert len(set(builtin)) == len(builtin) and set(builtin) <= set(plots.PALETTE)
    # an unknown (plugin) method: a palette colour from the SHA-256 of its name, the same in every process
    digest = int.from_bytes(hashlib.sha256(b"my_new_method").digest()[:8], "big")
    assert plots.method_color("my_new_method") == plots.PALETTE[digest % len(plots.PALETTE)]


def test_filters_and_missing_data_errors(results, tmp_path):
    frame = load_runs(results)
    paths = plots.plot(
        frame[frame["method"] == "dcmh"], "pr", tmp_path, tasks=("t2i",), formats=("png",), dpi=50
    )
    assert [p.name for p in paths] == ["pr_synthetic_16b_symmetric0.6_t2i.png"]
    with pytest.raises(XbenchError, match="--eval-every"):
        plots.plot(frame[frame["noise"] == "symmetric:0.2"], "epochs", tmp_path)
    with pytest.raises(XbenchError, match="--loss-epochs"):
        plots.plot(frame[frame["method"] == "dcmh"], "loss-hist", tmp_path)
    with pytest.raises(XbenchError, match="at epoch 7"):
        plots.plot(frame, "loss-hist", tmp_path, epoch=7)
    res = CliRunner().invoke(
        main, ["plot", "--results", str(results), "--kind", "pr", "--bits", "64", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "--bits: no results for 64; available: 16" in res.output
