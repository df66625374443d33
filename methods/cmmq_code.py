"""``cmmq-code``: CMMQ as the authors' released implementation behaves.

Source: yangerkun/Mutual-Quantization-for-Cross-Modal-Search-With-Noisy-Labels @ 2b17232
(``My_method.py``, ``network.py``, ``utils/tools.py``; line numbers of that commit). Registered
beside ``cmmq`` (the paper) so the effect of each difference can be measured; docs/methods/cmmq.md
tabulates them. Each one has a hyperparameter whose other value is the paper's choice:

* ``mq_weight`` 0.0 (``--beta`` default, L20, L104) and ``mq_kind=infonce``: the release's
  ``MQ_loss`` (L96-100), −log diag(softmax over dim 0 of U·Vᵀ) on tanh outputs, not the paper's
  symmetric KL (``mq_kind=symkl``: :func:`~.quantization.symmetric_kl`, mean over bits, as in ``cmmq``);
* ``keep_schedule=linspace`` with ``num_gradual`` 20 (L17, L192-194): forget rate
  linspace(0, ρ, 20), reaching ρ at epoch index 19; ``paper`` is R(t) = 1 − min(t/T_k·ρ, ρ)
  with T_k = ``num_gradual`` (ρ from epoch index T_k);
* ``keep_rounding=floor``: ``int((1 − forget_rate)·B)`` = ⌊R·B⌋ kept (L108-109), not ⌈R·B⌉;
* ``quant_weight`` 1e-4 (L72, L94, L102): per sample, the mean over the K bits of
  BCE_img + BCE_txt + λ_q·((|u|−1)² + (|v|−1)²); ``cmmq``'s α·Σ_k equals λ_q = α·K;
* ``text_net=linear2``: ``TextNet.forward`` returns fc3(fc1(x)), fc2 unused (``network.py``
  L84-112; :class:`~xbench.methods.networks.ReleaseTextNet`); ``mlp3`` is the paper's MLP;
* ``head_init=release``: image head N(0, 0.01), bias 0 (``network.py`` L58-60); text layers
  fc1 N(0, 0.01), fc2/fc3 N(0, 0.5), biases 0 (L95-100); ``pytorch`` keeps PyTorch's defaults;
* ``proxy_assign=name_based`` (L83, L115-124): argmax of the noisy labels for NUS-WIDE and
  MS-COCO names, majority vote otherwise (:func:`release_assigns_by_argmax`);
* ``proxy_tries`` 20, ``proxy_keep=last`` (L127-156): for C > 2K, at most 20 random draws and
  the last one kept when CSQ's criteria are never met (seeded here; the release's is not);
* ``augment`` (raw images; ``utils/tools.py`` L252-262): Resize 256 → RandomCrop 224 → flip
  in training, centre crop at test.

With every switch at the paper's value (``mq_kind=symkl, mq_weight=0.7, keep_schedule=paper,
num_gradual=10, keep_rounding=ceil, quant_weight=α·K, text_net=mlp3, head_init=pytorch,
proxy_assign=vote, proxy_tries=100, proxy_keep=best``) it trains exactly as ``cmmq`` on features.
What stays: no tanh in the networks (only the continuous outputs of ``--retrieval`` differ; codes
and losses are the same). Not mirrored (they would break a run or the
suite's protocol): evaluation after odd epochs only, a shuffled database, ``torch.sign`` keeping
0, an empty mean (NaN) when the kept count rounds to 0 (one sample is kept), the missing
``noisyutils`` source and hard-coded paths. Features mode: lr 1e-3 like ``cmmq``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from .base import Hyper, ProblemShape
from .networks import ImageNet, ReleaseTextNet, TextNet
from .proxies import argmax_assign, majority_vote
from .proxy_hasher import FEATURES_LR, ProxyHasher
from .proxy_hypers import INPUT_NORM_HYPER, release_proxy_draw_hypers, release_selection_hypers
from .quantization import proxy_bce, release_infonce, symmetric_kl
from .selection import keep_ratio, release_keep_ratio

RESIZE, CROP = 256, 224
MUTUAL_TERMS = {"infonce": release_infonce, "symkl": lambda u, v: symmetric_kl(u, v, reduction="mean")}


def release_assigns_by_argmax(dataset: str) -> bool:
    """Whether the release's name rule gives ``dataset`` the argmax (single-label) proxy.

    True for NUS-WIDE (but not a 21-class ``nuswide_21`` variant, which the release votes on)
    and MS-COCO names; case, spaces, '-' and '_' are ignored.
    """
    key = re.sub(r"[^a-z0-9]", "", dataset.lower())
    if key.startswith("nuswide"):
        return not key.startswith("nuswide21")
    return "coco" in key


def _unit_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 (or 0–255 float) images as floats in [0, 1]."""
    scale = x.dtype == torch.uint8 or bool(x.float().max() > 1.5)
    x = x.float()
    return x / 255.0 if scale else x


def release_train_view(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Resize to 256×256, random 224×224 crop and random horizontal flip per image (floats in [0, 1])."""
    x = _unit_range(x)
    x = F.interpolate(x, size=(RESIZE, RESIZE), mode="bilinear", align_corners=False)
    n = x.shape[0]
    offsets = torch.randint(0, RESIZE - CROP + 1, (n, 2), generator=generator).tolist()
    flips = (torch.rand(n, generator=generator) < 0.5).tolist()
    views = []
    for i in range(n):
        top, left = offsets[i]
        view = x[i, :, top : top + CROP, left : left + CROP]
        views.append(view.flip(-1) if flips[i] else view)
    return torch.stack(views)


def release_test_view(x: torch.Tensor) -> torch.Tensor:
    """Resize to 256×256 and take the central 224×224 crop (floats in [0, 1])."""
    x = F.interpolate(_unit_range(x), size=(RESIZE, RESIZE), mode="bilinear", align_corners=False)
    start = (RESIZE - CROP) // 2
    return x[:, :, start : start + CROP, start : start + CROP]


class CMMQCode(ProxyHasher):
    """CMMQ as released (see the module docstring for every difference from the paper)."""

    name = "cmmq-code"
    display_name, order, color, marker = "CMMQ-code", 100, "#ece133", "h"
    description = (
        "CMMQ as in the authors' released code: forget ramp over 20 epochs, InfoNCE 'MQ' term "
        "off by default, linear text net, name-based proxy assignment"
    )
    default_epochs = 100
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "input_norm": INPUT_NORM_HYPER,
        "lr": Hyper(
            1e-5,
            "release My_method.py L54-55; features mode: as cmmq (xbench)",
            "RMSprop learning rate of both networks",
            features_default=FEATURES_LR,
        ),
        "weight_decay": Hyper(1e-5, "release L54-55", "RMSprop weight decay"),
        "batch_size": Hyper(128, "release L59", "mini-batch size"),
        "quant_weight": Hyper(
            1e-4,
            "release config['lambda'] L72",
            "weight of the squared quantization term (averaged over bits with the BCE)",
        ),
        "mq_weight": Hyper(0.0, "release --beta default L20", "weight of the mutual term (mq_kind)"),
        "mq_kind": Hyper(
            "infonce",
            "release My_method.py L96-100",
            "mutual term: infonce (the release's MQ_loss) or symkl (the paper's symmetric KL, mean over bits)",
            choices=("infonce", "symkl"),
        ),
        "num_gradual": Hyper(20, "release --num_gradual L17", "epochs over which the forget rate ramps to ρ"),
        "keep_schedule": Hyper(
            "linspace",
            "release L192-194",
            "linspace (ρ at epoch index num_gradual − 1) or paper (R(t) with T_k = num_gradual)",
            choices=("linspace", "paper"),
        ),
        **release_selection_hypers(),
        **release_proxy_draw_hypers(),
        "noise_rate": Hyper(
            None,
            "release --noise_rate (= forget rate)",
            "ρ; None: the rate the runner passes (true or --assumed-noise-rate)",
        ),
        "proxy_assign": Hyper(
            "name_based",
            "release L83, L115-124",
            "target rule: name_based (as released), vote (majority vote) or argmax",
            choices=("name_based", "vote", "argmax"),
        ),
        "text_net": Hyper(
            "linear2",
            "release network.py L84-112",
            "linear2 (as released: fc3(fc1(x))) or mlp3 (the paper's three-layer MLP)",
            choices=("linear2", "mlp3"),
        ),
        "text_hidden": Hyper(None, "release ⌈(T+K)/2⌉", "hidden width of the text net (None: ⌈(T+K)/2⌉)"),
        "augment": Hyper(
            True,
            "release utils/tools.py L252-262",
            "raw images: random crop + flip in training, centre crop at test",
        ),
        "head_init": Hyper(
            "release",
            "release network.py L58-60, L95-100",
            "release (N(0, 0.01) image head; text N(0, 0.01), N(0, 0.5), N(0, 0.5); biases 0) or pytorch",
            choices=("release", "pytorch"),
        ),
        "backbone_weights": Hyper(
            "imagenet",
            "release network.py L45 (pretrained=True)",
            "ResNet-18 weights for raw images: imagenet, none, or a checkpoint path",
        ),
    }

    def __init__(self, shape: ProblemShape, bits: int, **kwargs: Any):
        super().__init__(shape, bits, **kwargs)
        rule = self.hp["proxy_assign"]
        if rule == "name_based":
            rule = "argmax" if release_assigns_by_argmax(shape.dataset) else "vote"
        self.assign_rule = rule
        self.augment_generator = torch.Generator().manual_seed(self.seed * 1_000_003 + 29)

    def build_networks(self):
        release = self.hp["head_init"] == "release"
        weights = self.hp["backbone_weights"]
        image = ImageNet(
            self.shape.image, self.bits, "linear", weights, head_init_std=0.01 if release else None
        )
        dim, hidden = int(self.shape.text.dim), self.hp["text_hidden"]
        if self.hp["text_net"] == "linear2":  # built with the release's init (network.py L95-100)
            text = ReleaseTextNet(dim, self.bits, hidden=hidden)
            if not release:
                for layer in (text.fc1, text.fc2, text.fc3):
                    layer.reset_parameters()
        else:  # built with PyTorch's init
            text = TextNet(dim, self.bits, hidden=hidden, out_activation="linear")
            linears = [m for m in text.modules() if isinstance(m, torch.nn.Linear)]
            for layer, std in zip(linears if release else [], (0.01, 0.5, 0.5), strict=False):
                torch.nn.init.normal_(layer.weight, 0.0, std)
                torch.nn.init.zeros_(layer.bias)
        return image, text

    def assign_targets(self, labels: torch.Tensor) -> torch.Tensor:
        if self.assign_rule == "argmax":
            return argmax_assign(labels, self.proxies)
        return majority_vote(labels, self.proxies, self.tie)

    def _image_input(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        if not (self.shape.image_is_raw and self.hp["augment"]):
            return x
        if train:
            return release_train_view(x, self.augment_generator).to(x.device)
        return release_test_view(x)

    def linear_outputs(self, modality: str, x: torch.Tensor, train: bool) -> torch.Tensor:
        """The networks' linear outputs (what the release binarises at test time)."""
        if modality == "image":
            x = self._image_input(x, train)
        return self.net(modality)(self.scaled(modality, x))

    def outputs(self, modality: str, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self.linear_outputs(modality, x, train).tanh()

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.linear_outputs(modality, x, train=False)

    def losses(self, b_image, b_text, o_image, o_text):
        q = (b_image.abs() - 1).pow(2) + (b_text.abs() - 1).pow(2)
        pc = proxy_bce(b_image, o_image) + proxy_bce(b_text, o_text) + self.hp["quant_weight"] * q.mean(dim=1)
        terms = {"pc": pc, "joint": pc}
        if self.hp["mq_weight"]:
            terms["mq"] = MUTUAL_TERMS[self.hp["mq_kind"]](b_image, b_text)
            terms["joint"] = pc + self.hp["mq_weight"] * terms["mq"]
        return terms

    def keep_ratio_at(self, epoch: int, rho: float) -> float:
        if self.hp["keep_schedule"] == "paper":  # R(t) with T_k = num_gradual (0: ρ from the start)
            return keep_ratio(epoch, rho, self.hp["num_gradual"]) if self.hp["num_gradual"] else 1.0 - rho
        return release_keep_ratio(epoch, rho, int(self.hp["num_gradual"]))

    def extra_state_for_store(self) -> dict[str, Any]:
        return {**super().extra_state_for_store(), "proxy_assign": self.assign_rule}


__all__ = ["CMMQCode", "release_assigns_by_argmax", "release_test_view", "release_train_view"]
