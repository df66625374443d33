"""``synthetic`` input variants: sparse bag-of-visual-words image counts and rescaled image features."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from xbench.datasets import synthetic
from xbench.datasets.synthetic import make_synthetic

from .conftest import TINY

# sha256 of TINY's arrays (image, text, labels, query, train, database) as generated before the
# variant options existed (commit 80583d5): the defaults must keep producing them byte for byte.
TINY_SHA256 = "6d4b40d41e69aa1303273016513d7357d8001bba362649c65c6d73ac88f4f797"


def _digest(d) -> str:
    h = hashlib.sha256()
    for a in (d.image, d.text, d.labels, d.split.query, d.split.train, d.split.database):
        h.update(a.tobytes())
    return h.hexdigest()


def test_default_output_is_byte_identical():
    assert _digest(make_synthetic(**TINY)) == TINY_SHA256
    explicit = make_synthetic(**TINY, image_features="dense", image_scale=1.0)
    assert _digest(explicit) == TINY_SHA256
    assert "image_features" not in explicit.meta and "image_scale" not in explicit.meta


def test_counts_variant_is_sparse_non_negative_counts_with_the_same_labels_text_and_split():
    base = make_synthetic(**TINY)
    d = make_synthetic(**TINY, image_features="counts", image_vocab=400, image_words=50.0)
    assert d.image.shape == (TINY["num_items"], 400) and d.image.dtype == np.float32
    assert (d.image >= 0).all() and np.array_equal(d.image, np.round(d.image))
    assert (d.image > 0).mean() < 0.2  # sparse
    assert abs(d.image.sum(1).mean() - 50.0) < 5.0  # ≈ image_words visual words per item
    for attr in ("text", "labels"):
        assert np.array_equal(getattr(d, attr), getattr(base, attr))
    assert np.array_equal(d.split.database, base.split.database)
    assert np.array_equal(d.split.query, base.split.query)
    assert d.meta["image_features"] == "counts"
    # the counts carry the labels: items sharing a class have more similar counts
    x = d.image / np.linalg.norm(d.image, axis=1, keepdims=True).clip(1e-9)
    sim = (d.labels.astype(float) @ d.labels.T.astype(float)) > 0
    cos = x @ x.T
    off = ~np.eye(len(x), dtype=bool)
    assert cos[sim & off].mean() > cos[~sim].mean() + 0.05


def test_scale_variant_multiplies_the_image_features_only():
    base = make_synthetic(**TINY)
    d = make_synthetic(**TINY, image_scale=100)
    assert np.allclose(d.image, 100.0 * base.image, rtol=1e-6, atol=0)
    assert np.array_equal(d.text, base.text) and np.array_equal(d.labels, base.labels)
    counts = make_synthetic(**TINY, image_features="counts", image_scale=0.5)
    assert np.allclose(counts.image * 2.0, make_synthetic(**TINY, image_features="counts").image)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"image_features": "sift"}, "image_features must be one of dense, counts"),
        ({"image_scale": 0}, "image_scale must be a positive number"),
        ({"image_scale": float("nan")}, "image_scale must be a positive number"),
        ({"image_vocab": 0}, "image_vocab"),
    ],
)
def test_bad_variant_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic(**TINY, **options)


def test_registry_loader_accepts_the_variant_options(tmp_path):
    d = synthetic.ENTRY.loader(tmp_path, **TINY, image_features="counts", image_scale=100)
    assert d.image.shape[1] == synthetic.DEFAULTS["image_vocab"] and d.image.max() >= 100
