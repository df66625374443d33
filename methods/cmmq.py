"""``cmmq``: Cross-Modal Mutual Quantization (Yang, Yao, Liu, Deng, CVPR 2022), as in the paper.

Source: CMMQ paper (Yang et al., CVPR 2022) §3–4; official code
yangerkun/Mutual-Quantization-for-Cross-Modal-Search-With-Noisy-Labels @ 2b17232; CSQ's hash centres
(swuxyj/DeepHash-pytorch @ ab14068 CSQ.py L72-113).

Model
-----
* Networks (the paper's fair-comparison setting, §4.2; :mod:`xbench.methods.networks`):
  image = ResNet-18 (ImageNet weights) with its last layer replaced by FC(K) + tanh on raw
  images, or the same FC(K) + tanh head on precomputed backbone features (a frozen
  backbone); text = three-layer MLP T → h → h → K with ReLU and a tanh output, h =
  ⌈(T+K)/2⌉ (the release's width heuristic; the paper gives no widths [R]).
* Proxy codes (§3.2, :mod:`.proxies`): rows of the Sylvester Hadamard matrix H_K for C ≤ K,
  of [H_K; −H_K] for K < C ≤ 2K, plus balanced random rows beyond that [R]; each training
  item's target is the per-bit majority vote of its (noisy) labels' proxies, ties broken by
  one fixed random ±1 vector drawn from the run's seed.
* Per-sample joint loss (Eqs. 3, 6–8, :mod:`.quantization`), for image output b and text
  output c with target o:
      L_a = Σ_{b,c} [β · BCE((1+·)/2, o) + α · Σ_k(|·_k| − 1)²] + λ · symKL(b, c)
  α = 1e-4, β = 1, λ = 0.7. The squared quantization term replaces the printed Σ(|b|−1)
  (a slip, see :func:`~.quantization.quantization_penalty`; ``quant=linear`` restores it).
* Small-loss selection (Eq. 5, :mod:`.selection`): in each mini-batch keep the ⌈R(t)·n⌉
  samples with the smallest L_a, R(t) = 1 − min(t/T_k · ρ, ρ), T_k = 10, t the epochs
  completed; both networks take one RMSprop step on the mean L_a of that subset (Eq. 9).
  ρ is the noise rate the runner passes: the true rate, as the paper assumes ("Following
  [15], we assume that the noise rate ρ is known"), or ``--assumed-noise-rate``; the
  ``noise_rate`` hyperparameter overrides both. Knowing ρ is oracle information; with the
  rate unknown, pass an estimate (the paper suggests inferring it on a validation set).
* Optimiser (§4.2): RMSprop, lr 1e-5, weight decay 1e-5, batch 128, for both networks.

Features-mode default
---------------------
The paper's lr 1e-5 is an end-to-end fine-tuning rate. On precomputed features only the
FC head and the text MLP learn, and at 1e-5 they barely move (after 30 epochs, 64 bits:
mAP 0.579 / 0.594 on ``synthetic``, the LSH floor; 0.137 / 0.114 on Wikipedia, chance), so
features input uses lr = 1e-3: on ``synthetic`` test mAP plateaus after ≈ 30 epochs
(0.811 / 0.798), on the SVCL Wikipedia features (rows summing to 1, so small steps) it
reaches 0.202 / 0.182 after the default 100 epochs, within ≈ 0.01 of what 3e-3–1e-2 reach;
3e-3 saturates the tanh outputs on ``synthetic`` in the first epochs. Raw images keep 1e-5.

Deviations / readings (switchable unless said otherwise)
--------------------------------------------------------
* ``kl_reduction``: the per-sample MQ term is *averaged* over the K bits (default) — the
  1/K normalisation of the BCE inside S (Eq. 2) and of the release's unused ``KLLoss``, so
  that λ = 0.7 weighs comparable quantities. Eq. (7) prints a sum over bits
  (``kl_reduction=sum``): per bit that outweighs the PC loss K-fold, and measured on
  ``synthetic`` (64 bits, features, lr 1e-3, 30 epochs, no noise) the networks then settle
  on agreeing with each other rather than with the proxies — PC loss 1.32, close to the
  2·log 2 ≈ 1.39 of all-zero outputs, and mAP 0.586 / 0.576 (I→T / T→I), at the LSH floor
  (0.577 / 0.574) — against 0.811 / 0.798 with the mean.
* ``quant``: ``square`` (default) or ``linear`` (the printed R(b)).
* ``keep_rounding``: the selection keeps ⌈R(t)·n⌉ (Eq. 5's |D'| ≥ R(t)|D|); ``floor`` keeps
  the release's ⌊R(t)·n⌋.
* ``proxy_tries`` / ``proxy_keep``: for C > 2K (not in the paper) up to 100 random draws, the
  best kept when none meets CSQ's criteria; the release: 20, the last.
* On raw images a trailing mini-batch of a single sample is skipped (BatchNorm cannot train
  on one sample).
"""

from __future__ import annotations

from typing import ClassVar

from .base import Hyper
from .proxy_hasher import (
    FEATURES_LR,
    PAPER,
    ProxyHasher,
    network_hypers,
    pc_hypers,
    pc_loss,
)
from .proxy_hypers import paper_proxy_draw_hypers, paper_selection_hypers
from .quantization import symmetric_kl
from .selection import keep_ratio


class CMMQ(ProxyHasher):
    """The paper's CMMQ: proxy BCE + quantization + λ·symmetric-KL mutual quantization,
    small-loss selection with R(t) (see the module docstring)."""

    name = "cmmq"
    display_name, order, color, marker = "CMMQ", 110, "#0173b2", "o"
    description = (
        "Hadamard proxy BCE + symmetric-KL mutual quantization, small-loss selection "
        "R(t) = 1 − min(tρ/T_k, ρ) (paper version)"
    )
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        **network_hypers(),
        **pc_hypers(),
        **paper_selection_hypers(),
        **paper_proxy_draw_hypers(),
        "mq_weight": Hyper(0.7, "paper §4.2 and Fig. 7 (λ)", "weight λ of the mutual quantization loss"),
        "kl_reduction": Hyper(
            "mean",
            "xbench reading (Eq. 7 sums over bits; see the module docstring)",
            "per-sample MQ loss: mean or sum over bits",
            choices=("mean", "sum"),
        ),
        "t_k": Hyper(10.0, "paper §4.2", "epochs T_k over which the drop rate ramps up to ρ"),
        "noise_rate": Hyper(
            None,
            "paper §4.2 (ρ known)",
            "ρ for R(t); None: the rate the runner passes (true or --assumed-noise-rate)",
        ),
    }

    def losses(self, b_image, b_text, o_image, o_text):
        hp = self.hp
        pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + pc_loss(
            b_text, o_text, hp["alpha"], hp["beta"], hp["quant"]
        )
        terms = {"pc": pc}
        if hp["mq_weight"]:
            mq = symmetric_kl(b_image, b_text, reduction=hp["kl_reduction"])
            terms["mq"] = mq
            terms["joint"] = pc + hp["mq_weight"] * mq
        else:
            terms["joint"] = pc
        return terms

    def keep_ratio_at(self, epoch: int, rho: float) -> float:
        return keep_ratio(epoch, rho, float(self.hp["t_k"]))


__all__ = ["CMMQ", "FEATURES_LR", "PAPER", "ProxyHasher", "network_hypers", "pc_hypers", "pc_loss"]
