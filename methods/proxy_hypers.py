"""Declared hyperparameters of the proxy family (``bce``, ``cmmq``, ``cmmq-code``), with their sources.

Sources: CMMQ paper (Yang, Yao, Liu, Deng, CVPR 2022) §4.2 (optimiser, α, β), Eq. 3 (the
quantization term), Eq. 5 (the kept count); the CMMQ release
(yangerkun/Mutual-Quantization-for-Cross-Modal-Search-With-Noisy-Labels @ 2b17232) for the values
``cmmq-code`` passes; CSQ's proxy acceptance test (swuxyj/DeepHash-pytorch @ ab14068 CSQ.py L84-113).
"""

from __future__ import annotations

from .hyper import Hyper
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .quantization import QUANT_KINDS

PAPER = "Yang, Yao, Liu, Deng, CVPR 2022 (Mutual Quantization for Cross-Modal Search with Noisy Labels)"
FEATURES_LR = 1e-3
PROXY_DRAWS_SOURCE = (
    "xbench [R] (C > 2K is not in the paper); CSQ's test, DeepHash-pytorch @ ab14068 CSQ.py L84-113"
)


#: features mode: the image FC(K) head feeds tanh, so features of another scale saturate it at the
#: start (collapse at ×100 on ``synthetic``, docs/health.md); precomputed features are standardised
INPUT_NORM_HYPER = Hyper(
    "standardize-features",
    "xbench (features mode; the paper trains end to end on raw images, which pass through untouched)",
    INPUT_NORM_HELP,
    choices=INPUT_NORMS,
)


def network_hypers() -> dict[str, Hyper]:
    """Hyperparameters shared by every proxy-based method (optimiser, networks)."""
    return {
        "input_norm": INPUT_NORM_HYPER,
        "lr": Hyper(
            1e-5,
            "paper §4.2 (end-to-end); features mode: xbench, validated on synthetic + Wikipedia",
            "RMSprop learning rate of both networks",
            features_default=FEATURES_LR,
        ),
        "weight_decay": Hyper(1e-5, "paper §4.2", "RMSprop weight decay"),
        "batch_size": Hyper(128, "paper §4.2", "mini-batch size"),
        "text_hidden": Hyper(
            None,
            "release heuristic ⌈(T+K)/2⌉ (CMMQ release network.py) [R]",
            "hidden width of the text MLP (None: ⌈(T+K)/2⌉)",
        ),
        "backbone_weights": Hyper(
            "imagenet",
            "paper §4.2 (ImageNet-pretrained ResNet-18)",
            "ResNet-18 weights for raw images: imagenet, none, or a checkpoint path",
        ),
    }


ROUNDING_HELP = "kept count per batch: ceil ⌈R·n⌉ or floor ⌊R·n⌋ (min. 1)"
TRIES_HELP = "random proxy draws for C > 2K (at most)"
KEEP_HELP = "draw kept when none meets CSQ's criteria: best or last"
RELEASE_PROXIES = "release My_method.py L127-156"


def paper_selection_hypers() -> dict[str, Hyper]:
    """The kept count of the small-loss selection as Eq. 5 asks, ⌈R·n⌉ (``floor``: the release's ⌊R·n⌋)."""
    return {
        "keep_rounding": Hyper(
            "ceil", "paper Eq. 5 (|D'| ≥ R(t)·|D|)", ROUNDING_HELP, choices=("ceil", "floor")
        )
    }


def release_selection_hypers() -> dict[str, Hyper]:
    """The release's kept count ``int((1 − forget_rate)·B)`` = ⌊R·n⌋."""
    return {
        "keep_rounding": Hyper(
            "floor", "release My_method.py L108-109", ROUNDING_HELP, choices=("ceil", "floor")
        )
    }


def paper_proxy_draw_hypers() -> dict[str, Hyper]:
    """Random proxy draws for C > 2K (not in the paper): up to 100, the best kept if none passes CSQ's test."""
    return {
        "proxy_tries": Hyper(100, PROXY_DRAWS_SOURCE, TRIES_HELP, minimum=1),
        "proxy_keep": Hyper("best", PROXY_DRAWS_SOURCE, KEEP_HELP, choices=("best", "last")),
    }


def release_proxy_draw_hypers() -> dict[str, Hyper]:
    """The release's proxy draws for C > 2K: up to 20, the last one kept."""
    return {
        "proxy_tries": Hyper(20, RELEASE_PROXIES, TRIES_HELP, minimum=1),
        "proxy_keep": Hyper("last", RELEASE_PROXIES, KEEP_HELP, choices=("best", "last")),
    }


def pc_hypers() -> dict[str, Hyper]:
    return {
        "alpha": Hyper(1e-4, "paper §4.2", "weight α of the quantization term R(b)"),
        "beta": Hyper(1.0, "paper §4.2", "scale β of the proxy BCE (δ(x) = exp(−βx))"),
        "quant": Hyper(
            "square",
            "paper Eq. 3 read as DCMH's squared term (printed form is a slip)",
            "quantization term: square Σ(|b|−1)² or linear Σ(|b|−1) (as printed)",
            choices=QUANT_KINDS,
        ),
    }


__all__ = [
    "FEATURES_LR",
    "PAPER",
    "PROXY_DRAWS_SOURCE",
    "network_hypers",
    "pc_hypers",
    "paper_proxy_draw_hypers",
    "paper_selection_hypers",
    "release_proxy_draw_hypers",
    "release_selection_hypers",
]
