"""Shared core of the classical two-view projections (``cca``, ``pls``): closed form or scikit-learn.

These are the classical, **unsupervised and label-free** rows of MRL's Table 1 (Hu et al.,
CVPR 2021): they see only the paired image and text features of the training set, never a
label, so label noise cannot affect them (their numbers are the same at every ρ for a given
seed). Each learns one linear map per modality into a common K-dimensional space (K = the run's
``bits``); ``continuous`` is the projection of the standardised input and the hash code is its
sign (the suite's rule, +1 where ≥ 0).

Fitting is non-iterative in the runner's sense: the first ``fit_epoch`` call fits the model on the
whole training set; later calls do nothing (``default_epochs = 1``). Inputs are standardised
per column with the training mean and the sample standard deviation (ddof = 1; a constant column
keeps scale 1), as ``sklearn.cross_decomposition`` does with ``scale=True``; the estimator is then
fitted with ``scale=False`` on the standardised data, and its public ``x_rotations_`` /
``y_rotations_`` give the projections of each modality on its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from .base import Hasher, Hyper, ProblemShape, TrainData

#: The scikit-learn NIPALS settings shared by ``cca`` (with ``solver=nipals``) and ``pls``.
NIPALS_HYPERPARAMETERS: dict[str, Hyper] = {
    "max_iter": Hyper(500, "scikit-learn default", "NIPALS iterations per component"),
    "tol": Hyper(1e-6, "scikit-learn default", "NIPALS convergence tolerance"),
}

#: ``cca`` and ``pls``: the exact closed form (default) or scikit-learn's NIPALS.
SOLVER = Hyper(
    "svd",
    "closed form (exact; equal to converged NIPALS)",
    "svd: closed form; nipals: scikit-learn's NIPALS",
    choices=("svd", "nipals"),
)


class TwoViewProjection(Hasher):
    """Linear projections of image and text features fitted once (closed form, or a scikit-learn estimator)."""

    default_epochs = 1
    supervised: ClassVar[bool] = False  # label-free: ignores the (noisy) training labels
    accepts_raw_images: ClassVar[bool] = False
    # both scikit-learn estimators fit by NIPALS (each subclass adds its solver choice)
    hyperparameters: ClassVar[dict[str, Hyper]] = NIPALS_HYPERPARAMETERS
    supported_bits = "1 … min(image features, text features, training pairs) components"

    @classmethod
    def check_problem(cls, shape: ProblemShape, bits: int) -> str | None:
        if shape.image_is_raw:
            return f"{cls.name}: needs feature inputs (precomputed image features), not raw images"
        dims = {"image": int(shape.image.dim), "text": int(shape.text.dim)}
        limit = min(dims.values())
        if bits > limit:
            return (
                f"{cls.name}: {bits} components requested but at most {limit} exist "
                f"(image {dims['image']}-d, text {dims['text']}-d); use bits ≤ {limit}"
            )
        return None

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        dims = {"image": int(shape.image.dim), "text": int(shape.text.dim)}
        for modality, dim in dims.items():
            self.register_buffer(
                f"mean_{modality}", torch.zeros(dim, dtype=torch.float64, device=self.device)
            )
            self.register_buffer(
                f"scale_{modality}", torch.ones(dim, dtype=torch.float64, device=self.device)
            )
            self.register_buffer(
                f"rotation_{modality}", torch.zeros(dim, self.bits, dtype=torch.float64, device=self.device)
            )
        self.fitted = False

    def estimator(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def rotations(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The two K-column projections of the standardised views: the estimator's rotations."""
        est = self.estimator().fit(xs, ys)
        return est.x_rotations_, est.y_rotations_

    @staticmethod
    def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean = x.mean(0)
        scale = x.std(0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
        scale = np.where(scale > 0, scale, 1.0)
        return (x - mean) / scale, mean, scale

    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        if self.fitted:
            return {"loss": 0.0}
        x = data.image.detach().cpu().numpy().astype(np.float64).reshape(len(data), -1)
        y = data.text.detach().cpu().numpy().astype(np.float64)
        if self.bits > len(x):
            raise ValueError(f"{self.name}: {self.bits} components but only {len(x)} training pairs")
        xs, mx, sx = self._standardise(x)
        ys, my, sy = self._standardise(y)
        rx, ry = self.rotations(xs, ys)
        for modality, mean, scale, rot in (("image", mx, sx, rx), ("text", my, sy, ry)):
            getattr(self, f"mean_{modality}").copy_(torch.from_numpy(mean))
            getattr(self, f"scale_{modality}").copy_(torch.from_numpy(scale))
            getattr(self, f"rotation_{modality}").copy_(torch.from_numpy(np.ascontiguousarray(rot)))
        self.fitted = True
        xp, yp = xs @ rx, ys @ ry
        corr = [float(np.corrcoef(xp[:, k], yp[:, k])[0, 1]) for k in range(self.bits)] if len(x) > 2 else []
        return {"loss": 0.0, "mean_correlation": float(np.nanmean(corr)) if corr else 0.0}

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        z = x.to(self.device).double().flatten(1)
        z = (z - getattr(self, f"mean_{modality}")) / getattr(self, f"scale_{modality}")
        return (z @ getattr(self, f"rotation_{modality}")).float()
