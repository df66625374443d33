"""``synthetic-images``: determinism from its seed, the rendered content, the small-cnn backbone
chosen in one place, and a tiny end-to-end run of every registered method on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xbench import datasets, methods
from xbench.datasets.synthetic_images import (
    COLOURS,
    SHAPES,
    make_synthetic_images,
    shape_mask,
)
from xbench.methods import ModalityShape, ProblemShape
from xbench.methods.backbones import SmallCNN, build_backbone
from xbench.methods.networks import ImageNet, resolve_backbone
from xbench.running.config import RunConfig
from xbench.running.runner import execute, resolve_epochs

TINY_IMAGES = {
    "num_items": 60,
    "num_query": 10,
    "num_train": 24,
    "num_classes": 6,
    "vocab_size": 40,
    "image_size": 16,
}


def test_deterministic_from_seed_and_seed_dependent():
    a = datasets.load("synthetic-images", seed=3, **TINY_IMAGES)
    b = datasets.load("synthetic-images", seed=3, **TINY_IMAGES)
    c = datasets.load("synthetic-images", seed=4, **TINY_IMAGES)
    for attr in ("image", "text", "labels"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
        assert not np.array_equal(getattr(a, attr), getattr(c, attr))
    assert a.split.checksum() == b.split.checksum() != c.split.checksum()
    assert a.class_names == b.class_names


def test_shapes_kinds_and_split():
    d = make_synthetic_images(**TINY_IMAGES)
    assert d.image_kind == "images" and d.image.dtype == np.uint8 and d.image.shape == (60, 3, 16, 16)
    assert d.text.shape == (60, 40) and d.labels.shape == (60, 6) and d.labels.sum(1).min() >= 1
    assert d.meta["image_backbone"] == "small-cnn"
    assert resolve_epochs(RunConfig("bce", "synthetic-images", 32), methods.get("bce"), d) == 100
    s = d.split
    assert len(s.query) == 10 and len(s.train) == 24
    assert np.isin(s.train, s.database).all() and not np.isin(s.query, s.database).any()


def test_labels_and_text_come_from_the_synthetic_generators():
    """Same seed → the labels and the bag of words that ``synthetic`` would draw from those labels."""
    from xbench.datasets.synthetic import bag_of_words, synthetic_labels
    from xbench.datasets.synthetic_images import object_kinds, render

    opts = dict(TINY_IMAGES)
    d = make_synthetic_images(**opts, seed=5)
    rng = np.random.default_rng(5)
    labels = synthetic_labels(rng, 60, 6, 2.5, 6)
    kinds = object_kinds(rng, 6)
    image = render(rng, labels, kinds, 16, 0.36, 0.1, 0.02)  # default object_scale, clutter, pixel_noise
    text = bag_of_words(rng, labels, 40, 40.0, 0.5)  # vocab_size (TINY), default words_per_item, background
    np.testing.assert_array_equal(d.labels, labels)
    np.testing.assert_array_equal(d.image, image)
    np.testing.assert_array_equal(d.text, text)


def test_defaults_are_the_documented_design():
    """The option defaults are the signature's, and the text is built to be memorised slowly: a
    vocabulary far smaller than the training set (docs/synthetic-images.md, "Why T→I did not fall")."""
    import inspect

    from xbench.datasets.synthetic_images import DEFAULTS

    signature = inspect.signature(make_synthetic_images).parameters
    assert {k: p.default for k, p in signature.items()} == DEFAULTS
    assert (DEFAULTS["vocab_size"], DEFAULTS["words_per_item"]) == (200, 40.0)
    assert (DEFAULTS["object_scale"], DEFAULTS["clutter"], DEFAULTS["pixel_noise"]) == (0.36, 0.1, 0.02)
    assert DEFAULTS["vocab_size"] * 5 == DEFAULTS["num_train"]


def test_an_object_of_a_class_is_painted_in_its_colour():
    """A clean picture (no clutter, no noise, one label) holds its class's colour where its shape is."""
    d = make_synthetic_images(
        num_items=40,
        num_query=5,
        num_train=10,
        num_classes=4,
        mean_labels=1.0,
        clutter=0.0,
        pixel_noise=0.0,
        image_size=32,
        vocab_size=20,
        seed=1,
    )
    kinds = d.class_names
    for i in range(5):
        j = int(np.flatnonzero(d.labels[i])[0])
        colour = kinds[j].split(":")[1].split("-")[2]
        pixels = d.image[i].reshape(3, -1).T.astype(float) / 255.0
        target = COLOURS[int(colour)]
        # "solid" objects show the colour at ≥ 0.75 brightness; textured ones also at 0.35 of it
        ratio = pixels / target
        close = np.all(np.abs(ratio - ratio[:, :1]) < 0.02, axis=1) & (ratio[:, 0] > 0.2)
        assert close.sum() >= 4, (i, kinds[j])
    assert shape_mask(SHAPES[1], np.array([0.0, 0.9]), np.array([0.0, 0.9])).tolist() == [True, False]


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="unknown option"):
        datasets.load("synthetic-images", colour_count=3)
    with pytest.raises(ValueError, match="backbone must be one of"):
        make_synthetic_images(**TINY_IMAGES, backbone="vgg")


def test_backbone_resolved_in_one_place():
    raw = ModalityShape("images", (3, 16, 16))
    assert resolve_backbone(raw) == "resnet18"  # real data: the paper's backbone
    small = ModalityShape("images", (3, 16, 16), "small-cnn")
    assert resolve_backbone(small) == "small-cnn"
    with pytest.raises(ValueError, match="unknown image backbone"):
        resolve_backbone(ModalityShape("images", (3, 16, 16), "vgg"))
    net = ImageNet(small, 8)
    assert isinstance(net.backbone, SmallCNN)
    out = net(torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8))
    assert out.shape == (4, 8) and out.abs().max() <= 1
    text = ModalityShape("bow", 10)
    assert ProblemShape(small, text, 3).features_defaults  # from scratch: features-mode defaults
    assert not ProblemShape(raw, text, 3).features_defaults  # fine-tuning a pretrained ResNet-18
    assert ProblemShape(ModalityShape("features", 5), text, 3).features_defaults
    with pytest.raises(ValueError, match="too small"):
        build_backbone("small-cnn", (3, 4, 4))


@pytest.mark.parametrize("method", ["bce", "cmhh"])
def test_from_scratch_backbone_anneals_every_optimiser_by_cosine(method):
    """With small-cnn, each group's rate is the method's own rate × ½(1 + cos(π e / T)) over the
    run's budget T; on features (or a pretrained ResNet-18) it is the method's own rate."""
    import math

    from xbench.methods.base import TrainData
    from xbench.methods.schedules import learning_rate

    text = ModalityShape("bow", 10)
    small = ProblemShape(ModalityShape("images", (3, 16, 16), "small-cnn"), text, 3)
    feats = ProblemShape(ModalityShape("features", 8), text, 3)
    data = TrainData(torch.zeros(4, 8), torch.zeros(4, 10), torch.zeros(4, 3), epochs=10)
    for epoch in (0, 3, 9):
        factor = 0.5 * (1.0 + math.cos(math.pi * epoch / 10))
        for shape, expected in ((small, factor), (feats, 1.0)):
            m = methods.get(method)(shape, 16)
            m.apply_lr_schedule(data, epoch)
            own = m.lr_schedule()
            total = m.epoch_budget(data, own.epochs)
            for opt in m.optimizers.values():
                for group in opt.param_groups:
                    mine = learning_rate(own, group["base_lr"], epoch, total)
                    assert group["lr"] == pytest.approx(expected * mine, rel=1e-12)


def test_runner_hands_the_dataset_backbone_to_methods():
    from xbench.running.runner import problem_shape

    d = make_synthetic_images(**TINY_IMAGES)
    assert problem_shape(d, 24).image.backbone == "small-cnn"
    d2 = make_synthetic_images(**TINY_IMAGES, backbone="resnet18")
    assert problem_shape(d2, 24).image.backbone == "resnet18"


@pytest.mark.parametrize(
    "method",
    [m for m in methods.registry.names() if not m.startswith("test-") and methods.get(m).accepts_raw_images],
)
def test_every_method_runs_end_to_end_on_raw_images(method):
    cfg = RunConfig(
        method=method,
        dataset="synthetic-images",
        bits=16,
        noise="symmetric-sample:0.4",
        epochs=1,
        eval_every=1,
        dataset_options=tuple(sorted(TINY_IMAGES.items())),
    )
    result = execute(cfg)
    assert result.status == "ok", result.error
    for direction in ("i2t", "t2i"):
        assert 0.0 <= result.metrics[direction]["map"] <= 1.0
    assert "test_i2t" in result.history[-1]
    assert result.arrays["db_image"].shape == (50, 16)


def test_figures_grid_draws_figures_1_and_8_on_synthetic_images():
    from pathlib import Path

    from xbench.running import grid

    path = Path(__file__).resolve().parents[1] / "results" / "experiments" / "figures.toml"
    cells = [c for s in grid.build_specs(path, {}) for c in grid.expand(s)]
    curves = [c for c in cells if c.group == "curves"]
    assert {c.dataset for c in curves} == {"synthetic-images"} and {c.method for c in curves} == {
        "bce",
        "cmmq",
    }
    assert all(c.eval_every > 0 and c.epochs is None and not c.dataset_options for c in curves)
    assert {c.noise for c in curves} == {"symmetric-sample:0.4", "none"}


def test_feature_only_methods_are_refused_on_raw_images_before_training(tmp_path):
    from click.testing import CliRunner

    from xbench.cli import main

    options = [arg for k, v in sorted(TINY_IMAGES.items()) for arg in ("--dataset-option", f"{k}={v}")]
    res = CliRunner().invoke(
        main,
        [
            "run",
            "--methods",
            "cca,pls",
            "--datasets",
            "synthetic-images",
            "--bits",
            "8",
            "--results",
            str(tmp_path / "r"),
            "-q",
            *options,
        ],
    )
    assert res.exit_code == 2
    assert "--methods cca on synthetic-images: needs precomputed image features" in res.output
    assert not (tmp_path / "r" / "runs").exists()
