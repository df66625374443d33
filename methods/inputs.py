"""Input scaling of precomputed inputs, in one place for every method (``Hasher.inputs``).

:class:`InputNormalisation` is fitted once, on the training split, by
:meth:`xbench.methods.base.Hasher.fit_epoch` (first call), and applied by the base
class's :meth:`~xbench.methods.base.Hasher.scaled` — which the default
:meth:`~xbench.methods.base.Hasher.continuous` uses — so a method's networks always see
inputs of the same, declared scale, whatever the dataset. A method chooses the mode by
declaring an ``input_norm`` hyperparameter (``Hyper(default, source, INPUT_NORM_HELP,
choices=INPUT_NORMS)``) (switchable per run:
``--set METHOD.input_norm=none``) or, without one, by its class attribute
``Hasher.input_norm`` (``"none"``: inputs untouched). Raw images always pass through.
Why and what it changes: docs/health.md ("Input scaling").
"""

from __future__ import annotations

from typing import Any

import torch

from .lazy_buffers import LazyBuffers

INPUT_NORMS = ("auto", "none", "center", "standardize", "standardize-features")


#: the meaning of the ``input_norm`` hyperparameter a method declares to make its scaling switchable
INPUT_NORM_HELP = (
    "auto: centre bag-of-words, standardise precomputed features (train-split statistics), raw "
    "images untouched; standardize-features: standardise precomputed features only; or none / "
    "center / standardize (xbench.methods.inputs)"
)


class InputNormalisation(LazyBuffers):
    """Per-dimension input normalisation fitted on the training set (raw images pass through).

    ``mode``: ``none``; ``center`` (subtract the training mean); ``standardize`` (and
    divide by the training std, floored at 1e-6); ``auto`` — centre bag-of-words inputs
    (DCMH's MATLAB code zero-means the BoW: ``normZeroMean``, ``DCMH_demo.m`` L27) and
    standardise precomputed feature inputs (xbench features-mode choice);
    ``standardize-features`` — standardise precomputed feature inputs, leave bag-of-words
    untouched (the proxy family: its text MLP was validated on raw BoW).

    Why: these baselines use plain SGD, whose usable step size scales with the input
    norm. Non-negative inputs (pooled ReLU features, counts) make the balance term ‖F·1‖²
    dominate the curvature along the mean input (divergence above lr ≈ 0.1 on
    ``synthetic``), and small-norm features (Wikipedia's SIFT histograms and LDA
    proportions sum to 1) barely move at any usable lr. Standardised features have norm
    ≈ √D, the regime of a ResNet-18 pooled feature that the end-to-end head sees.
    """

    def __init__(self, shape: Any, mode: str = "auto"):
        super().__init__()
        if mode not in INPUT_NORMS:
            raise ValueError(f"unknown input normalisation '{mode}'; valid: {', '.join(INPUT_NORMS)}")
        self.mode = {m: self._mode_for(mode, getattr(shape, m).kind) for m in ("image", "text")}
        for m in ("image", "text"):
            self.register_buffer(f"mean_{m}", None)
            self.register_buffer(f"scale_{m}", None)

    @staticmethod
    def _mode_for(mode: str, kind: str) -> str:
        if kind == "images":
            return "none"
        if mode == "auto":
            return "center" if kind == "bow" else "standardize"
        if mode == "standardize-features":
            return "standardize" if kind == "features" else "none"
        return mode

    @torch.no_grad()
    def fit(self, data: Any) -> None:
        """Training-split mean (and std) of each modality that is scaled; ``data`` is a TrainData."""
        for modality in ("image", "text"):
            mode = self.mode[modality]
            if mode == "none":
                continue
            x = getattr(data, modality).float().flatten(1)
            setattr(self, f"mean_{modality}", x.mean(dim=0))
            if mode == "standardize":
                setattr(self, f"scale_{modality}", 1.0 / x.std(dim=0, unbiased=False).clamp_min(1e-6))

    def forward(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        mean = getattr(self, f"mean_{modality}")
        if mean is None:
            return x
        x = x.float().flatten(1) - mean
        scale = getattr(self, f"scale_{modality}")
        return x if scale is None else x * scale

    @property
    def active(self) -> bool:
        return any(mode != "none" for mode in self.mode.values())


__all__ = ["INPUT_NORMS", "INPUT_NORM_HELP", "InputNormalisation"]
