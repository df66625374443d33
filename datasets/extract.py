"""Image features from a backbone, for benchmarking on features instead of raw images.

``xbench data extract`` runs an image backbone (the CMMQ paper's ResNet-18 with ImageNet
weights, §4.2) over a dataset's images in batches and
writes a features file that the loaders accept through their ``image`` option.

Preprocessing (``preprocess``):

* ``imagenet`` (default) — torchvision's standard evaluation transform for the ImageNet
  weights: scale to [0, 1]; if the image is not already 224×224, resize the shorter side to 256
  (bilinear, antialiased) and centre-crop 224×224; normalise with the ImageNet mean
  (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225). DCMH's 224×224 images are only scaled and
  normalised.
* ``resize`` — resize the whole image to 224×224 (bilinear), then normalise: what the methods'
  raw-image network does (``xbench.methods.networks.ImagePreprocess``), so features match a
  frozen copy of the methods' backbone exactly.

The features file (``.npz``) holds ``features`` (N×D float32, rows in the dataset's row order)
and metadata: ``num_items``, ``labels_sha256`` (:func:`~xbench.datasets.checks.labels_fingerprint`
of the dataset's labels; the loaders refuse a file whose fingerprint differs), ``dataset``,
``backbone``, ``weights``, ``preprocess``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .checks import labels_fingerprint
from .matfile import write_npz

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PREPROCESS = ("imagenet", "resize")
CROP = 224
RESIZE = 256


def preprocess_images(batch: Any, mode: str = "imagenet") -> Any:
    """uint8 N×3×H×W (numpy or torch) → normalised float32 N×3×224×224 torch tensor."""
    import torch
    import torch.nn.functional as F

    if mode not in PREPROCESS:
        raise ValueError(f"preprocess '{mode}': expected one of {', '.join(PREPROCESS)}")
    x = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor) else batch)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"images must be N×3×H×W, got shape {tuple(x.shape)}")
    x = x.float() / 255.0
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if (h, w) != (CROP, CROP):
        if mode == "imagenet":
            scale = RESIZE / min(h, w)
            size = (max(CROP, round(h * scale)), max(CROP, round(w * scale)))
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
            top, left = (size[0] - CROP) // 2, (size[1] - CROP) // 2
            x = x[:, :, top : top + CROP, left : left + CROP]
        else:
            x = F.interpolate(x, size=(CROP, CROP), mode="bilinear", align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


def extract_features(
    images: Any,
    backbone: Any,
    batch_size: int = 128,
    device: str = "cpu",
    preprocess: str = "imagenet",
    progress: bool = False,
    desc: str = "extract",
) -> np.ndarray:
    """Run ``backbone`` (in eval mode, no gradients) over ``images`` (N×3×H×W uint8, lazy or
    not) in contiguous batches; return N×D float32 features (D: the backbone's output width)."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    n = int(images.shape[0])
    dev = torch.device(device)
    backbone = backbone.to(dev).eval()
    out: np.ndarray | None = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=desc, unit="img")
    with torch.no_grad():
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            batch = np.asarray(images[start:stop])
            x = preprocess_images(torch.from_numpy(np.ascontiguousarray(batch)).to(dev), preprocess)
            feats = backbone(x).flatten(1).float().cpu().numpy()
            if out is None:
                out = np.empty((n, feats.shape[1]), dtype=np.float32)
            out[start:stop] = feats
            if bar is not None:
                bar.update(stop - start)
    if bar is not None:
        bar.close()
    if out is None:
        raise ValueError("no images to extract features from")
    if not np.isfinite(out).all():
        raise ValueError("the backbone produced NaN/inf features")
    return out


def write_features(
    path: str | Path,
    features: np.ndarray,
    labels: np.ndarray,
    dataset: str,
    backbone: str,
    weights: str,
    preprocess: str,
) -> Path:
    """Write a features file the loaders accept (format in the module docstring), atomically."""
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[0] != len(labels):
        raise ValueError(f"features of shape {features.shape} do not match {len(labels)} items")
    return write_npz(
        path,
        {
            "features": features,
            "num_items": np.int64(len(labels)),
            "labels_sha256": np.str_(labels_fingerprint(labels)),
            "dataset": np.str_(dataset),
            "backbone": np.str_(backbone),
            "weights": np.str_(weights),
            "preprocess": np.str_(preprocess),
        },
    )
