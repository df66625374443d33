"""``lsh``: random projections + sign — the chance floor every learned method must beat.

Sign-random-projection LSH (Charikar, STOC 2002), applied per modality: each modality's
(centred) input is projected onto K Gaussian directions and binarised. The two modalities
get independent projections, so cross-modal retrieval with it is close to chance; it stays
registered as the floor of every table. No training; ``fit_epoch`` only records the
training means used for centring (features and bag-of-words inputs; raw images are
average-pooled to 3×16×16 first).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .base import Hasher, Hyper, TrainData
from .epoch_log import EpochLog


class LSH(Hasher):
    name = "lsh"
    display_name, order, color, marker = "LSH", 10, "#949494", "."
    paper = "Charikar, STOC 2002 (sign random projections)"
    description = "random projections + sign; untrained chance floor"
    default_epochs = 1
    hyperparameters = {
        "center": Hyper(True, "xbench", "subtract the training mean of each modality before projecting"),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        g = torch.Generator().manual_seed(self.seed + 7919)
        dims = {"image": self._flat_dim(shape.image), "text": self._flat_dim(shape.text)}
        for modality, dim in dims.items():
            self.register_buffer(f"proj_{modality}", torch.randn(dim, bits, generator=g).to(self.device))
            self.register_buffer(f"mean_{modality}", torch.zeros(dim, device=self.device))

    @staticmethod
    def _flat_dim(shape) -> int:
        return 3 * 16 * 16 if shape.kind == "images" else int(shape.dim)

    def _flatten(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        if modality == "image" and self.shape.image_is_raw:
            x = F.adaptive_avg_pool2d(x.float(), (16, 16))
        return x.float().flatten(1)

    def train_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """No training: record the training means used for centring (logged loss 0)."""
        if self.hp["center"]:
            for modality in ("image", "text"):
                x = getattr(data, modality)
                total = torch.zeros_like(getattr(self, f"mean_{modality}"))
                for idx in self.batches(len(data), 4096, shuffle=False):
                    total += self._flatten(modality, x[idx]).sum(0)
                getattr(self, f"mean_{modality}").copy_(total / max(len(data), 1))

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        z = self._flatten(modality, x) - getattr(self, f"mean_{modality}")
        return z @ getattr(self, f"proj_{modality}")
