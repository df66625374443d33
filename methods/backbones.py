"""Image backbones for raw-image input, by name: ``resnet18`` (the paper's) and ``small-cnn`` (CPU-sized).

A backbone maps uint8 N×3×H×W images to N×D features; every method puts its own head
(FC(K), an MLP, ...) on top through :class:`~xbench.methods.networks.ImageNet`. Which one a
run uses is decided in ONE place, :func:`xbench.methods.networks.resolve_backbone`: the
dataset's declared preference (``ModalityShape.backbone``, e.g. ``synthetic-images`` declares
``small-cnn``), else ``resnet18``.

* ``resnet18`` — torchvision ResNet-18 with its last layer removed (512-d), input resized to
  224×224 and ImageNet-normalised; the CMMQ paper's fair-comparison backbone (§4.2) and the
  default for real data.
* ``small-cnn`` — :class:`SmallCNN`, three 3×3 conv–BN–ReLU–max-pool stages (16, 32, 64
  channels) and a 256-unit fully connected layer on the flattened 64×(H/8)×(W/8) map. It is
  built for the 32×32 pictures of ``synthetic-images`` so that a run takes minutes on one CPU
  core, yet its ≈ 0.3 M parameters (most in the fully connected layer) can memorise a few
  thousand noisy labels. It has no pretrained weights: it always starts from PyTorch's default
  initialisation (the methods' ``imagenet`` default means "the backbone's own default" here),
  or from a state-dict checkpoint given as a path. Since every network then learns from
  scratch, methods take their features-mode hyperparameter defaults with it (e.g. lr 1e-3
  rather than the paper's fine-tuning 1e-5; ``ProblemShape.features_defaults``), and every
  optimiser's rate is annealed to 0 over the run (:data:`FROM_SCRATCH_ANNEAL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

BACKBONES = ("resnet18", "small-cnn")
DEFAULT_BACKBONE = "resnet18"
# Backbones without pretrained weights: with them methods take their features-mode (from-scratch)
# hyperparameter defaults (ProblemShape.features_defaults).
FROM_SCRATCH = ("small-cnn",)
# THE raw-image training setting for a backbone trained from scratch, the same for every method:
# every optimiser's rate (the method's own rate and schedule) is multiplied, epoch by epoch, by this
# schedule's factor over the run's budget (cosine annealing to 0, PyTorch's CosineAnnealingLR).
# Applied by Hasher.apply_lr_schedule; docs/synthetic-images.md ("Training setting") says why.
FROM_SCRATCH_ANNEAL = "cosine"

# Inputs are mapped from [0, 255] to [-1, 1] per channel (no dataset statistics are assumed).
SMALL_CNN_MEAN = 0.5
SMALL_CNN_STD = 0.5


@dataclass
class Backbone:
    """A built backbone: ``preprocess`` (uint8 → normalised float), ``net`` (→ features), ``dim``."""

    preprocess: nn.Module
    net: nn.Module
    dim: int


class UnitScale(nn.Module):
    """uint8 (or [0, 255] float) images → float in [−1, 1]: (x/255 − mean)/std, at ``size``.

    Inputs of another size (e.g. a method's 224×224 ResNet-style augmented views, as
    ``cmmq-code`` makes) are resized to ``size`` (bilinear), as ``ImagePreprocess`` does for 224.
    """

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = tuple(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.dtype == torch.uint8 or bool(x.float().max() > 1.5)
        x = x.float()
        if scale:
            x = x / 255.0
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return (x - SMALL_CNN_MEAN) / SMALL_CNN_STD


class SmallCNN(nn.Module):
    """Three conv(3×3)–BN–ReLU–maxpool(2) stages (``channels``) + FC(``hidden``) + ReLU."""

    def __init__(
        self,
        image_size: tuple[int, int] = (32, 32),
        channels: tuple[int, ...] = (16, 32, 64),
        hidden: int = 256,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        h, w = image_size
        for out_ch in channels:
            layers += [
                nn.Conv2d(in_ch, out_ch, 3, padding=1),
                nn.BatchNorm2d(out_ch),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            in_ch, h, w = out_ch, h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(
                f"small-cnn: images of {image_size[0]}×{image_size[1]} are too small for "
                f"{len(channels)} pooling stages (need at least {2 ** len(channels)} pixels a side)"
            )
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(in_ch * h * w, hidden), nn.ReLU(inplace=True))
        self.out_features = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))


def _image_size(dim: int | tuple[int, ...]) -> tuple[int, int]:
    if isinstance(dim, int) or len(dim) != 3:
        raise ValueError(f"raw images must be 3×H×W, got input shape {dim}")
    return int(dim[1]), int(dim[2])


def build_backbone(name: str, dim: int | tuple[int, ...], weights: str | None = "imagenet") -> Backbone:
    """The backbone ``name`` for images of shape ``dim`` (3×H×W), with ``weights``.

    ``resnet18``: ``imagenet`` / ``none`` / a checkpoint path (see ``load_resnet18``).
    ``small-cnn``: ``imagenet`` or ``none`` → default initialisation; a path → that state dict.
    """
    if name == "resnet18":
        from .networks import ImagePreprocess, load_resnet18

        model = load_resnet18(weights)
        dim_out = int(model.fc.in_features)
        model.fc = nn.Identity()
        return Backbone(ImagePreprocess(), model, dim_out)
    if name == "small-cnn":
        size = _image_size(dim)
        net = SmallCNN(size)
        if weights not in ("imagenet", "none", None, ""):
            path = Path(str(weights))
            if not path.is_file():
                raise FileNotFoundError(
                    f"small-cnn weights '{weights}': no such file (use 'none' or a state-dict path)"
                )
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        return Backbone(UnitScale(size), net, net.out_features)
    raise ValueError(f"unknown image backbone '{name}'; valid: {', '.join(BACKBONES)}")


__all__ = [
    "BACKBONES",
    "DEFAULT_BACKBONE",
    "FROM_SCRATCH",
    "FROM_SCRATCH_ANNEAL",
    "Backbone",
    "SmallCNN",
    "UnitScale",
    "build_backbone",
]
