"""``synthetic``: the embedded default benchmark, generated from a seed (no files needed).

Designed to behave like MIRFlickr-25K features so that methods differ and label noise hurts:

* **labels** — multi-label, ``num_classes`` (24) classes with Zipf-like skewed frequencies;
  each item draws 1 + Poisson(``mean_labels``−1) labels (≈3.5 on average), at least one.
  Classes co-occur through a few latent "scenes" (groups of related classes), as concepts do
  in Flickr photos (sky/clouds/sunset ...).
* **image** — dense non-negative ``image_dim``-d (512) features like pooled ReLU CNN
  activations: a sum of per-class prototype directions weighted at random, a per-item
  "style" component shared by no class (nuisance), Gaussian noise, then ReLU.
* **text** — sparse bag-of-words counts over a ``vocab_size`` (1000) vocabulary: each item
  draws a Poisson number of words (≈20) from a mixture of its labels' topics (each topic a
  sparse Dirichlet over words) and a background distribution shared by all items (nuisance:
  ``text_background`` of the words carry no label information). Some items end up with
  few informative words, so text alone is not trivially separable either.

Variants (options; the defaults give the arrays above, byte for byte): ``image_features="counts"``
replaces the image features by sparse non-negative bag-of-visual-words counts over ``image_vocab``
(1750) visual words, ≈ ``image_words`` (100) per item, drawn as the text is (label topics plus the
shared background) from a random stream of their own, so labels, text and split are unchanged — the
regime of SIFT bag-of-visual-words features; ``image_scale`` multiplies the image features (e.g.
100: dense features of another scale). They check that a method's defaults do not depend on the
scale or sparsity of ``synthetic``'s inputs (docs/health.md).

The split is query / train / database with train ⊂ database (the MIRFlickr protocol).
Without ``--epochs``, methods train for ``EPOCH_SCALE`` (0.2) of their own epoch budget
here (the runner reads ``meta["epoch_scale"]``); real datasets use the full budgets.
Everything is drawn from ``numpy.random.default_rng(seed)``: same seed → identical arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import CrossModalData, Split
from .entry import DatasetEntry

# Without --epochs, runs on this smoke-size benchmark train for this fraction of each method's
# own epoch budget (e.g. CMMQ 100 → 20), so the default grid finishes in minutes on a CPU.
EPOCH_SCALE = 0.2

DEFAULTS = {
    "num_items": 6000,
    "num_query": 500,
    "num_train": 2000,
    "num_classes": 24,
    "mean_labels": 3.5,
    "image_dim": 512,
    "vocab_size": 1000,
    "words_per_item": 20.0,
    "image_noise": 1.6,
    "image_style": 1.2,
    "text_background": 0.5,
    "num_scenes": 6,
    "seed": 0,
    "image_features": "dense",
    "image_vocab": 1750,
    "image_words": 100.0,
    "image_scale": 1.0,
}
IMAGE_FEATURES = ("dense", "counts")


def synthetic_labels(
    rng: np.random.Generator, num_items: int, num_classes: int, mean_labels: float, num_scenes: int
) -> np.ndarray:
    """N×C uint8 multi-hot labels: Zipf-like class frequencies, co-occurring through scenes.

    Each item draws 1 + Poisson(``mean_labels``−1) labels (at least one, at most C) from its
    scene-weighted class distribution (see the module docstring). Shared by ``synthetic-images``.
    """
    n, c = num_items, num_classes
    class_weight = 1.0 / np.arange(1, c + 1) ** 0.8
    class_weight = class_weight[rng.permutation(c)]
    scene_of_class = rng.integers(0, num_scenes, size=c)
    k = np.maximum(1, 1 + rng.poisson(max(mean_labels - 1.0, 0.0), size=n))
    k = np.minimum(k, c)
    scenes = rng.integers(0, num_scenes, size=n)
    labels = np.zeros((n, c), dtype=np.uint8)
    for i in range(n):  # n is small; clarity over speed
        w = class_weight * np.where(scene_of_class == scenes[i], 4.0, 1.0)
        labels[i, rng.choice(c, size=k[i], replace=False, p=w / w.sum())] = 1
    return labels


def bag_of_words(
    rng: np.random.Generator,
    labels: np.ndarray,
    vocab_size: int,
    words_per_item: float,
    text_background: float,
) -> np.ndarray:
    """N×V float32 word counts from the labels' topics plus a shared background (module docstring).

    Shared by ``synthetic-images``.
    """
    n, c = labels.shape
    topics = rng.dirichlet(np.full(vocab_size, 0.05), size=c)
    background = rng.dirichlet(np.full(vocab_size, 1.0))
    lab_mix = labels / labels.sum(1, keepdims=True)
    word_p = (1.0 - text_background) * (lab_mix @ topics) + text_background * background
    n_words = np.maximum(1, rng.poisson(words_per_item, size=n))
    text = np.stack([rng.multinomial(n_words[i], word_p[i] / word_p[i].sum()) for i in range(n)])
    return text.astype(np.float32)


def make_synthetic(
    num_items: int = 6000,
    num_query: int = 500,
    num_train: int = 2000,
    num_classes: int = 24,
    mean_labels: float = 3.5,
    image_dim: int = 512,
    vocab_size: int = 1000,
    words_per_item: float = 20.0,
    image_noise: float = 1.6,
    image_style: float = 1.2,
    text_background: float = 0.5,
    num_scenes: int = 6,
    seed: int = 0,
    image_features: str = "dense",
    image_vocab: int = 1750,
    image_words: float = 100.0,
    image_scale: float = 1.0,
) -> CrossModalData:
    """Generate the synthetic cross-modal dataset (see the module docstring)."""
    if image_features not in IMAGE_FEATURES:
        raise ValueError(
            f"synthetic: image_features must be one of {', '.join(IMAGE_FEATURES)}, got {image_features!r}"
        )
    if not (image_scale > 0 and np.isfinite(image_scale)):
        raise ValueError(f"synthetic: image_scale must be a positive number, got {image_scale}")
    if image_vocab < 1 or image_words <= 0:
        raise ValueError("synthetic: image_vocab must be ≥ 1 and image_words > 0")
    if num_query + num_train > num_items:
        raise ValueError("num_query + num_train must not exceed num_items")
    if num_classes < 2 or num_scenes < 1:
        raise ValueError("need at least 2 classes and 1 scene")
    rng = np.random.default_rng(seed)
    n, c = num_items, num_classes

    labels = synthetic_labels(rng, n, c, mean_labels, num_scenes)

    # --- image: ReLU of label prototypes + style nuisance + noise ------------------------
    prototypes = rng.normal(0.0, 1.0, size=(c, image_dim))
    styles = rng.normal(0.0, 1.0, size=(8, image_dim))
    mix = labels * rng.uniform(0.5, 1.5, size=(n, c))
    mix /= np.sqrt(labels.sum(1, keepdims=True))
    style = rng.normal(0.0, image_style, size=(n, styles.shape[0])) @ styles / np.sqrt(styles.shape[0])
    image = mix @ prototypes + style + rng.normal(0.0, image_noise, size=(n, image_dim))
    image = np.maximum(image, 0.0).astype(np.float32)

    text = bag_of_words(rng, labels, vocab_size, words_per_item, text_background)

    split = train_in_database_split(rng, n, num_query, num_train, source=f"synthetic seed {seed}")
    if image_features == "counts":  # a stream of its own: labels, text and split stay those of the seed
        image = bag_of_words(
            np.random.default_rng([seed, 1]), labels, image_vocab, image_words, text_background
        )
    if image_scale != 1.0:
        image = (image * np.float32(image_scale)).astype(np.float32)
    database = split.database
    return CrossModalData(
        name="synthetic",
        image=image,
        text=text,
        labels=labels,
        image_kind="features",
        text_kind="bow",
        split=split,
        class_names=[f"class{j:02d}" for j in range(c)],
        default_topk=None if len(database) <= 5000 else 5000,
        meta={
            "generator": "xbench.datasets.synthetic",
            "seed": seed,
            "num_items": n,
            "epoch_scale": EPOCH_SCALE,
            **({"image_features": image_features} if image_features != "dense" else {}),
            **({"image_scale": image_scale} if image_scale != 1.0 else {}),
        },
    )


def train_in_database_split(
    rng: np.random.Generator, num_items: int, num_query: int, num_train: int, source: str
) -> Split:
    """A seeded query / train ⊂ database split (the MIRFlickr protocol) drawn from ``rng``."""
    perm = rng.permutation(num_items)
    query, database = np.sort(perm[:num_query]), np.sort(perm[num_query:])
    train = np.sort(perm[num_query : num_query + num_train])
    return Split(
        query.astype(np.int64),
        train.astype(np.int64),
        database.astype(np.int64),
        source=source,
        protocol="train-in-database",
    )


def options_loader(
    name: str, defaults: dict, make: Callable[..., CrossModalData]
) -> Callable[..., CrossModalData]:
    """A registry loader for a generated dataset: refuses unknown options, then calls ``make(**options)``."""

    def load(data_root: Path, **options) -> CrossModalData:
        unknown = set(options) - set(defaults)
        if unknown:
            raise ValueError(f"{name}: unknown option(s) {sorted(unknown)}; valid: {sorted(defaults)}")
        return make(**options)

    return load


_load = options_loader("synthetic", DEFAULTS, make_synthetic)


ENTRY = DatasetEntry(
    name="synthetic",
    loader=_load,
    available=lambda root: True,
    order=50,
    description="embedded MIRFlickr-like multi-label benchmark (24 classes, 512-d image features, "
    "1000-word BoW), generated from a seed; no files needed",
    options=dict(DEFAULTS),
)
