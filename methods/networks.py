"""Networks shared by every method (the CMMQ paper's fair-comparison setting, §4.2).

* :class:`ImageNet` — raw images: torchvision ResNet-18 (ImageNet weights by default) with
  its last layer replaced by FC(K) (+ tanh), or another backbone of
  :mod:`~xbench.methods.backbones` as :func:`resolve_backbone` chooses; precomputed backbone
  features: the same FC(K) (+ tanh) head on the features, which is equivalent to a frozen backbone.
* :class:`TextNet` — a three-layer MLP on the bag-of-words with a K-unit output (+ tanh).
* :class:`MLP` — a generic stack of linear layers (MRL's 4096-4096 nets, SSAH's heads, ...).
* :class:`ClassPrototypes` — learnable, L2-normalised class centres (MRL-style heads).
* :class:`BackboneMLP` — an optional ResNet-18 followed by a two-hidden-layer MLP (``uot-rcl``).

Sources: CMMQ paper §4.2 and release network.py L42-112 (CMMQ networks); penghu-cs/MRL nets/*.py (MRL);
DCMH net_structure_img.m (DCMH, linear outputs).
ImageNet weights are downloaded by torchvision on first use; pass
``weights="none"`` (or a local checkpoint path) for offline use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import BACKBONES, DEFAULT_BACKBONE, build_backbone
from .base import ModalityShape

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def activation(name: str) -> nn.Module:
    """``tanh``, ``linear`` (identity), ``relu`` or ``sigmoid``."""
    table = {"tanh": nn.Tanh, "linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
    if name not in table:
        raise ValueError(f"unknown activation '{name}'; valid: {', '.join(table)}")
    return table[name]()


class MLP(nn.Module):
    """Linear layers ``dims[0] → … → dims[-1]`` with ReLU between and ``out_activation`` after."""

    def __init__(self, dims: Sequence[int], out_activation: str = "linear", dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(nn.ReLU(inplace=True))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        layers.append(activation(out_activation))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def load_resnet18(weights: str = "imagenet") -> nn.Module:
    """torchvision ResNet-18: ``imagenet`` (downloads on first use), ``none``, or a checkpoint path."""
    import torchvision

    if weights == "imagenet":
        model = torchvision.models.resnet18(weights=torchvision.models.ResNet18_Weights.IMAGENET1K_V1)
    elif weights in ("none", None, ""):
        model = torchvision.models.resnet18(weights=None)
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"ResNet-18 weights '{weights}': no such file (use 'imagenet' or 'none')")
        model = torchvision.models.resnet18(weights=None)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    return model


class ImagePreprocess(nn.Module):
    """uint8 N×3×H×W → float, resized to ``size`` if needed, ImageNet-normalised."""

    def __init__(self, size: int = 224):
        super().__init__()
        self.size = size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if x.max() > 1.5 or x.dtype == torch.uint8:
            x = x / 255.0
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std


def resolve_backbone(shape: ModalityShape) -> str:
    """THE place where a run's image backbone is chosen (raw images only).

    The dataset's declared preference (``shape.backbone``, set by the runner from the dataset's
    ``meta["image_backbone"]``; ``synthetic-images`` declares ``small-cnn`` and lets the
    ``backbone`` dataset option change it), else ``resnet18`` — the paper's backbone and the
    default for real data. Names: :data:`~xbench.methods.backbones.BACKBONES`.
    """
    name = getattr(shape, "backbone", None) or DEFAULT_BACKBONE
    if name not in BACKBONES:
        raise ValueError(f"unknown image backbone '{name}'; valid: {', '.join(BACKBONES)}")
    return name


class ImageNet(nn.Module):
    """Image network: a backbone (:func:`resolve_backbone`) + FC(K) for raw images, FC(K) alone on features."""

    def __init__(
        self,
        shape: ModalityShape,
        bits: int,
        out_activation: str = "tanh",
        weights: str = "imagenet",
        head_init_std: float | None = None,
    ):
        super().__init__()
        self.raw = shape.kind == "images"
        if self.raw:
            built = build_backbone(resolve_backbone(shape), shape.dim, weights)
            in_features = built.dim
            self.preprocess = built.preprocess
            self.backbone = built.net
        else:
            in_features = int(shape.dim if isinstance(shape.dim, int) else math.prod(shape.dim))
            self.preprocess = nn.Identity()
            self.backbone = nn.Identity()
        self.feature_dim = in_features
        self.head = nn.Linear(in_features, bits)
        if head_init_std is not None:
            nn.init.normal_(self.head.weight, 0.0, head_init_std)
            nn.init.zeros_(self.head.bias)
        self.out = activation(out_activation)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features (the input itself in features mode)."""
        return self.backbone(self.preprocess(x)) if self.raw else x.float().flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.head(self.features(x)))


class TextNet(nn.Module):
    """Three-layer MLP ``T → h → h → K`` (+ ``out_activation``); ``h`` defaults to ⌈(T+K)/2⌉.

    The hidden width follows the CMMQ release's heuristic (CMMQ release @ 2b17232; the paper does
    not state the widths, so this is a reconstruction [R]).
    """

    def __init__(self, in_dim: int, bits: int, hidden: int | None = None, out_activation: str = "tanh"):
        super().__init__()
        hidden = int(hidden or math.ceil((in_dim + bits) / 2))
        self.hidden = hidden
        self.mlp = MLP([in_dim, hidden, hidden, bits], out_activation=out_activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x.float())


class ClassPrototypes(nn.Module):
    """Learnable class centres C (dim × num_classes), column-normalised before use (MRL §3.2).

    Initialised from the first ``num_classes`` columns of a random orthogonal matrix (MRL's
    ``main_noisy.py``); ``logits(z)`` returns zᵀc_k / τ for L2-normalised z.
    """

    def __init__(self, dim: int, num_classes: int, generator: torch.Generator | None = None):
        super().__init__()
        size = max(dim, num_classes)
        q, _ = torch.linalg.qr(torch.randn(size, size, generator=generator))
        self.centres = nn.Parameter(q[:dim, :num_classes].contiguous())

    def normalised(self) -> torch.Tensor:
        return F.normalize(self.centres, dim=0)

    def logits(self, z: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        return F.normalize(z, dim=1) @ self.normalised() / tau


class ReleaseTextNet(nn.Module):
    """The CMMQ release's text network, as it actually computes (CMMQ release @ 2b17232).

    yangerkun/Mutual-Quantization-… ``network.py`` ``TextNet`` defines fc1 (T → h),
    fc2 (h → h) and fc3 (h → K), h = ⌈(T + K)/2⌉, initialised fc1 ~ N(0, 0.01), fc2 and
    fc3 ~ N(0, 0.5), biases 0; but its forward pass computes relu(fc1(x)), discards it and
    returns fc3(fc1(x)): a *linear* map with fc2 unused (it receives no gradient). The output
    is linear (the release applies tanh inside its loss). fc2 is kept so the parameter count
    matches the release.
    """

    def __init__(self, in_dim: int, bits: int, hidden: int | None = None):
        super().__init__()
        hidden = int(hidden or math.ceil((in_dim + bits) / 2))
        self.hidden = hidden
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, bits)
        nn.init.normal_(self.fc1.weight, 0.0, 0.01)
        nn.init.normal_(self.fc2.weight, 0.0, 0.5)
        nn.init.normal_(self.fc3.weight, 0.0, 0.5)
        for layer in (self.fc1, self.fc2, self.fc3):
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(self.fc1(x.float()))


class BackboneMLP(nn.Module):
    """Backbone (raw images: ``backbone``, the name :func:`resolve_backbone` gives, ResNet-18 by
    default, without its fc; flatten otherwise) → MLP ``d → h → h → K``.

    Linear output (``uot-rcl`` applies its tanh code head outside); MRL-style widths
    (penghu-cs/MRL ``nets/*.py``: h = 4096).
    """

    def __init__(
        self,
        kind: str,
        dim: int | tuple[int, ...],
        hidden: int,
        bits: int,
        weights: str = "imagenet",
        backbone: str = DEFAULT_BACKBONE,
    ):
        super().__init__()
        if kind == "images":
            built = build_backbone(backbone, dim, weights)
            in_dim = built.dim
            self.backbone: nn.Module = nn.Sequential(built.preprocess, built.net)
        else:
            in_dim = int(dim if isinstance(dim, int) else math.prod(dim))
            self.backbone = nn.Flatten()
        self.mlp = MLP([in_dim, hidden, hidden, bits], out_activation="linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.backbone(x if x.dtype == torch.uint8 else x.float()))
