"""``synthetic-images``: an embedded raw-image benchmark, generated from a seed (no files needed).

Built so that an end-to-end network trained on noisy labels can *memorise* them in minutes
on a CPU (the CMMQ paper's Figure 1 phenomenon), which the 512-d features of ``synthetic``
with a linear head cannot show. Documentation and measurements: ``docs/synthetic-images.md``.

* **labels** — multi-label, drawn exactly as in ``synthetic``
  (:func:`~xbench.datasets.synthetic.synthetic_labels`: Zipf-like class frequencies,
  co-occurrence through latent scenes, 1 + Poisson(``mean_labels``−1) labels per item).
* **image** — a ``image_size``×``image_size`` RGB uint8 picture rendered from the labels.
  Every class has an object *kind*: a (shape, colour, texture) triple drawn once from the
  seed out of 6 shapes × 8 colours × 3 textures, distinct between classes, so classes share
  attributes and only the conjunction identifies one. Each positive label puts one object of
  its kind on the canvas at a random position and scale (radius ``object_scale`` of the side,
  ±40 %), with brightness jitter. Clutter and nuisance no class explains: a random
  background colour with a random linear gradient, Poisson(``clutter``) distractor objects
  of kinds that belong to no class (they share shapes, colours and textures with the
  classes), objects drawn in random order so that they occlude each other, and Gaussian
  pixel noise (``pixel_noise``, in units of the 0–255 range / 255).
* **text** — a bag of words exactly as in ``synthetic``
  (:func:`~xbench.datasets.synthetic.bag_of_words`), over a vocabulary (200 words) far smaller than
  the training set, 40 words per item: the text network must then memorise a noisy label through
  words that other items share, slowly, as the image network does, rather than through words of its
  own within a few epochs (with 1,000 words for 1,000 training pairs, T→I showed no fall:
  ``docs/synthetic-images.md``, "Why T→I did not fall").
* **split** — query / train / database with train ⊂ database (the MIRFlickr protocol).

The images go through each method's raw-image path (uint8 on the device, the method's own
augmentation if it has one). The dataset declares ``small-cnn`` as its image backbone
(``meta["image_backbone"]``, read by :func:`xbench.methods.networks.resolve_backbone`); the
``backbone`` option changes it (``resnet18`` resizes to 224×224: far slower on a CPU).
Without ``--epochs`` methods train for their own budget (CMMQ/BCE 100 epochs): memorising the noise
needs it (``docs/synthetic-images.md``, "The phenomenon").
Everything is drawn from ``numpy.random.default_rng(seed)``: same seed → identical arrays.
"""

from __future__ import annotations

import numpy as np

from .base import CrossModalData
from .entry import DatasetEntry
from .synthetic import bag_of_words, options_loader, synthetic_labels, train_in_database_split

SHAPES = ("square", "disk", "triangle", "cross", "ring", "diamond")
TEXTURES = ("solid", "stripes", "checker")
# Eight saturated colours (RGB in [0, 1]).
COLOURS = np.array(
    [
        [0.90, 0.15, 0.15],
        [0.15, 0.75, 0.20],
        [0.20, 0.35, 0.95],
        [0.95, 0.85, 0.15],
        [0.85, 0.25, 0.85],
        [0.15, 0.85, 0.85],
        [0.95, 0.55, 0.10],
        [0.95, 0.95, 0.95],
    ]
)
BACKBONES = ("small-cnn", "resnet18")

DEFAULTS = {
    "num_items": 2000,
    "num_query": 200,
    "num_train": 1000,
    "num_classes": 16,
    "mean_labels": 2.5,
    "image_size": 32,
    "object_scale": 0.36,
    "clutter": 0.1,
    "pixel_noise": 0.02,
    "vocab_size": 200,
    "words_per_item": 40.0,
    "text_background": 0.5,
    "num_scenes": 6,
    "backbone": "small-cnn",
    "seed": 0,
}


def shape_mask(shape: str, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Boolean mask of ``shape`` on offsets (dx, dy) from its centre, in units of its radius."""
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.85
    if shape == "disk":
        return dx * dx + dy * dy <= 1.0
    if shape == "triangle":
        return (dy <= 0.9) & (dy >= -1.0) & (np.abs(dx) <= (dy + 1.0) * 0.55)
    if shape == "cross":
        return ((np.abs(dx) <= 0.33) & (np.abs(dy) <= 1.0)) | ((np.abs(dy) <= 0.33) & (np.abs(dx) <= 1.0))
    if shape == "ring":
        r2 = dx * dx + dy * dy
        return (r2 <= 1.0) & (r2 >= 0.36)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= 1.0
    raise ValueError(f"unknown shape '{shape}'")


def texture_pattern(texture: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Brightness factor of ``texture`` at pixel coordinates (1 = full colour)."""
    if texture == "solid":
        return np.ones(np.broadcast(xs, ys).shape)
    if texture == "stripes":
        return np.where(((xs + ys) // 2) % 2 == 0, 1.0, 0.35)
    if texture == "checker":
        return np.where((xs // 2 + ys // 2) % 2 == 0, 1.0, 0.35)
    raise ValueError(f"unknown texture '{texture}'")


def object_kinds(rng: np.random.Generator, num_classes: int) -> np.ndarray:
    """A permutation of all (shape, colour, texture) index triples; the first C are the classes'."""
    combos = np.array(
        [(s, c, t) for s in range(len(SHAPES)) for c in range(len(COLOURS)) for t in range(len(TEXTURES))],
        dtype=np.int64,
    )
    if num_classes > len(combos) - 1:
        raise ValueError(
            f"synthetic-images: at most {len(combos) - 1} classes (one kind is left for clutter)"
        )
    return combos[rng.permutation(len(combos))]


def render(
    rng: np.random.Generator,
    labels: np.ndarray,
    kinds: np.ndarray,
    size: int,
    object_scale: float,
    clutter: float,
    pixel_noise: float,
) -> np.ndarray:
    """N×3×size×size uint8 pictures of the labels (module docstring; draw order per item below).

    Per item: background colour (3 uniforms in [0, 0.5)), gradient direction and strength
    (2 normals × 0.15), the number of distractors ~ Poisson(``clutter``) and their kinds
    (uniform over the non-class kinds), the drawing order (a permutation), then per object
    centre (2 uniforms), radius factor (uniform in [0.6, 1.4]) and brightness (uniform in
    [0.75, 1.1]); finally the pixel noise of the whole batch.
    """
    n, c = labels.shape
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    u, v = xs / (size - 1) - 0.5, ys / (size - 1) - 0.5
    out = np.empty((n, size, size, 3), dtype=np.float64)
    radius0 = object_scale * size
    num_clutter_kinds = len(kinds) - c
    for i in range(n):
        base = rng.uniform(0.0, 0.5, size=3)
        grad = rng.normal(0.0, 0.15, size=2)
        canvas = base[None, None, :] + (grad[0] * u + grad[1] * v)[:, :, None]
        distractors = c + rng.integers(0, num_clutter_kinds, size=rng.poisson(clutter))
        objects = np.concatenate([np.flatnonzero(labels[i]), distractors])
        for k in objects[rng.permutation(len(objects))]:
            shape, colour, texture = kinds[k]
            cx, cy = rng.uniform(0.0, size - 1, size=2)
            radius = radius0 * rng.uniform(0.6, 1.4)
            bright = rng.uniform(0.75, 1.1)
            mask = shape_mask(SHAPES[shape], (xs - cx) / radius, (ys - cy) / radius)
            paint = (
                COLOURS[colour][None, None, :]
                * (bright * texture_pattern(TEXTURES[texture], xs, ys))[:, :, None]
            )
            canvas = np.where(mask[:, :, None], paint, canvas)
        out[i] = canvas
    out += rng.normal(0.0, pixel_noise, size=out.shape)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8).transpose(0, 3, 1, 2).copy()


def make_synthetic_images(
    num_items: int = 2000,
    num_query: int = 200,
    num_train: int = 1000,
    num_classes: int = 16,
    mean_labels: float = 2.5,
    image_size: int = 32,
    object_scale: float = 0.36,
    clutter: float = 0.1,
    pixel_noise: float = 0.02,
    vocab_size: int = 200,
    words_per_item: float = 40.0,
    text_background: float = 0.5,
    num_scenes: int = 6,
    backbone: str = "small-cnn",
    seed: int = 0,
) -> CrossModalData:
    """Generate the ``synthetic-images`` dataset (see the module docstring)."""
    if num_query + num_train > num_items:
        raise ValueError("num_query + num_train must not exceed num_items")
    if num_classes < 2 or num_scenes < 1:
        raise ValueError("need at least 2 classes and 1 scene")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    if backbone not in BACKBONES:
        raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}, got '{backbone}'")
    rng = np.random.default_rng(seed)
    labels = synthetic_labels(rng, num_items, num_classes, mean_labels, num_scenes)
    kinds = object_kinds(rng, num_classes)
    image = render(rng, labels, kinds, image_size, object_scale, clutter, pixel_noise)
    text = bag_of_words(rng, labels, vocab_size, words_per_item, text_background)

    split = train_in_database_split(
        rng, num_items, num_query, num_train, source=f"synthetic-images seed {seed}"
    )
    database = split.database
    names = [
        f"{SHAPES[s]}-{t}-{c}"
        for s, c, t in ((kinds[j][0], kinds[j][1], TEXTURES[kinds[j][2]]) for j in range(num_classes))
    ]
    return CrossModalData(
        name="synthetic-images",
        image=image,
        text=text,
        labels=labels,
        image_kind="images",
        text_kind="bow",
        split=split,
        class_names=[f"class{j:02d}:{n}" for j, n in enumerate(names)],
        default_topk=None if len(database) <= 5000 else 5000,
        meta={
            "generator": "xbench.datasets.synthetic_images",
            "seed": seed,
            "num_items": num_items,
            "image_backbone": backbone,
        },
    )


_load = options_loader("synthetic-images", DEFAULTS, make_synthetic_images)


ENTRY = DatasetEntry(
    name="synthetic-images",
    loader=_load,
    available=lambda root: True,
    order=55,
    display_name="synthetic-images",
    description="embedded raw-image multi-label benchmark (16 classes, 32×32 RGB pictures of class objects "
    "with clutter, 200-word BoW, small-cnn backbone), generated from a seed; no files needed",
    options=dict(DEFAULTS),
)
