"""SSAH's self-supervised label network and the hash / label heads it shares with the modality networks.

Sources: lelan-li/SSAH @ 8780b20 ``tnet.py`` (``lab_net``; every weight and bias
~ 0.01·N(0, 1)); the placement of the heads on the CMMQ paper's shared networks is a
reconstruction (see :mod:`xbench.methods.ssah`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class SSAHOutput:
    feature: torch.Tensor  # semantic feature (b × embed_dim), ReLU
    hash: torch.Tensor  # tanh hash layer (b × K)
    label: torch.Tensor  # sigmoid label prediction (b × C)


def _normal_init(module: nn.Module, std: float) -> None:
    for p in module.parameters():
        nn.init.normal_(p, 0.0, std)


class SSAHHeads(nn.Module):
    """Hash head (→ K, tanh) and label head (→ C, sigmoid) on the semantic feature."""

    def __init__(self, embed_dim: int, bits: int, num_classes: int, init_std: float | None = 0.01):
        super().__init__()
        self.hash = nn.Linear(embed_dim, bits)
        self.label = nn.Linear(embed_dim, num_classes)
        if init_std is not None:
            _normal_init(self, init_std)

    def forward(self, feature: torch.Tensor) -> SSAHOutput:
        return SSAHOutput(feature, torch.tanh(self.hash(feature)), torch.sigmoid(self.label(feature)))


class LocalResponseNorm1d(nn.Module):
    """TF ``local_response_normalization(depth_radius=2, bias=2, alpha=1e-4, beta=0.75)`` on N×D.

    PyTorch divides α by the window size, so its α is 5·1e-4 (TF's depth_radius 2 ↔ size 5).
    The forward is ``nn.LocalResponseNorm``'s arithmetic in the same order — the window's squares
    summed first to last from a zero-padded copy, divided by the window size, then ·α + k, ^β — with
    the window sum as shifted slices instead of ``avg_pool2d`` (≈ 3× faster forward and backward
    on the CPU); outputs and gradients are bit-identical (tested).
    """

    def __init__(self, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75):
        super().__init__()
        self.size = 2 * depth_radius + 1
        self.alpha, self.beta, self.bias = alpha * self.size, beta, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size, d = self.size, x.shape[-1]
        padded = nn.functional.pad(x * x, (size // 2, (size - 1) // 2))
        window = padded[..., 0:d]
        for i in range(1, size):
            window = window + padded[..., i : i + d]
        return x / (window / size).mul(self.alpha).add(self.bias).pow(self.beta)


class LabelNet(nn.Module):
    """LabNet: labels → hidden (ReLU, LRN) → embed (ReLU) → heads (``tnet.py`` ``lab_net``)."""

    def __init__(
        self,
        num_classes: int,
        bits: int,
        hidden: int = 4096,
        embed_dim: int = 512,
        init_std: float | None = 0.01,
    ):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(num_classes, hidden),
            nn.ReLU(),
            LocalResponseNorm1d(),
            nn.Linear(hidden, embed_dim),
            nn.ReLU(),
        )
        if init_std is not None:
            _normal_init(self.trunk, init_std)
        self.heads = SSAHHeads(embed_dim, bits, num_classes, init_std)

    def forward(self, labels: torch.Tensor) -> SSAHOutput:
        return self.heads(self.trunk(labels.float()))


class ModalityNet(nn.Module):
    """A shared image/text network producing the semantic feature, plus SSAH's heads."""

    def __init__(
        self, trunk: nn.Module, embed_dim: int, bits: int, num_classes: int, init_std: float | None = 0.01
    ):
        super().__init__()
        self.trunk = trunk
        self.heads = SSAHHeads(embed_dim, bits, num_classes, init_std)

    def forward(self, x: torch.Tensor) -> SSAHOutput:
        return self.heads(self.trunk(x))


@torch.no_grad()
def forward_chunks(net: nn.Module, x: torch.Tensor, chunk: int = 1024) -> SSAHOutput:
    """``net`` over a whole set in chunks (no gradient), its outputs concatenated field by field."""
    outs = [net(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
    return SSAHOutput(*(torch.cat([getattr(o, f) for o in outs]) for f in ("feature", "hash", "label")))


__all__ = ["LabelNet", "LocalResponseNorm1d", "ModalityNet", "SSAHHeads", "SSAHOutput", "forward_chunks"]
