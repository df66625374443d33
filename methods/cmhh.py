"""``cmhh``: Cross-Modal Hamming Hashing (Cao, Liu, Long, Wang, ECCV 2018) — reconstruction [R].

CMHH has no public code (the CMMQ authors re-implemented it and did not release it; CMMQ
paper §4.2), and only its abstract was read for xbench: "a pairwise focal loss based on
the exponential distribution" that "penalizes significantly on similar cross-modal pairs
with Hamming distance larger than the Hamming radius threshold". The loss below is the
reconstruction of ../shared/reference/methods.md §4, in the style of the same group's DCH
(Deep Cauchy Hashing, CVPR 2018):

* continuous Hamming distance between tanh outputs, d_ij = (K/2)(1 − cos(h_i, h_j)) (equal
  to the Hamming distance for ±1 codes);
* probability that a pair is similar p_ij = exp(−β d_ij) (exponential distribution; p = ½
  at the "radius" d = ln 2 / β);
* exponential focal loss, class-balanced:
  L_f = (1/|S|) Σ_ij w_ij [ s_ij (1 − p_ij)^γ β d_ij − (1 − s_ij) p_ij^γ log(1 − p_ij) ],
  w_ij = |S|/|S₁| for similar pairs and |S|/|S₀| for dissimilar ones — similar pairs far
  beyond the radius get the full penalty βd, well-separated pairs are down-weighted by
  the focal factor (the paper's "up-weight difficult pairs", CMMQ §4.2);
* quantization [R, exact form unknown], averaged over the rows of both modalities:
  ``exponential`` (default) — λ·mean_i β d(|h_i|, 1),
  −log of the exponential probability that |h| and 1 are similar (the analogue of DCH's
  Cauchy quantization loss); ``square`` — λ·mean_i Σ_k (|h_ik| − 1)² (torchcmh's
  commented "collective" term).

Pairs: the cross-modal pairs (image i, text j) of each mini-batch, S from the (noisy)
labels; both networks are updated on the same batch (DCH-style within-batch training).
Codes = sign of the tanh outputs.

Defaults: γ = 2 (focal loss; torchcmh ``training/CMHH.py`` ``parameters``), β = 0.25 (the
β of a commented-out joint within-batch ``train()`` in torchcmh's ``training/CMHH.py`` at
WangGodder/deep-cross-modal-hashing@5bc3add, L132 ``beta = 0.25`` and L193-194 the
inner-product Hamming distance ½(K − h_xᵀh_y) scaled by β; that block was removed in 969ce26,
and at the pinned 9784397 the only β is the active code's 0.5 on a Euclidean distance, L29
and L112; 0.25 was also slightly better on ``synthetic``), λ = 0.1 (xbench; with λ = 1 the *text*
codes collapse to a single code on ``synthetic`` at 32 bits, with λ = 0.1 to 8 codes — a known
collapse, see docs/health.md), SGD with momentum 0.9, lr 0.02 (image) and 0.2 (text) halved every 15 epochs, batch 128 (torchcmh L29-50). torchcmh trains 500
epochs; with the lr halved every 15 epochs it is below 2% of the initial rate after 90
epochs, so ``default_epochs`` is 100 (xbench). Networks: the suite's shared ImageNet / TextNet with
tanh outputs (CMMQ paper §4.2). Inputs of precomputed features are standardised and BoW
centred as for ``dcmh`` (:class:`~xbench.methods.pairwise.InputNormalisation`).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from . import register
from .base import Hasher, Hyper, TrainData
from .networks import ImageNet, TextNet
from .pairwise import (
    InputNormalisation,
    class_balanced_weights,
    continuous_hamming,
    exponential_focal_loss,
    exponential_quantization_loss,
    similarity,
    square_quantization_loss,
    text_input_dim,
)

_T = "torchcmh training/CMHH.py L29-50 (methods.md §4) [T]"


@register
class CMHH(Hasher):
    name = "cmhh"
    paper = "Cao, Liu, Long, Wang, Cross-Modal Hamming Hashing, ECCV 2018 (reconstruction)"
    description = ("exponential-distribution pairwise focal loss on a continuous Hamming distance with "
                   "class-balanced weights + quantization; within-batch cross-modal pairs; tanh outputs [R]")
    default_epochs = 100
    has_sample_losses = True
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "beta": Hyper(0.25, "torchcmh @5bc3add training/CMHH.py L132 (commented-out joint train(), removed in "
                      "969ce26): beta = 0.25 on the inner-product Hamming distance ½(K − h_xᵀh_y), L193-194 [T] "
                      "(@9784397 L29, L112: 0.5 on a Euclidean distance)",
                      "rate β of p = exp(−β d); the radius where p = ½ is ln2/β"),
        "gamma": Hyper(2.0, f"{_T}: parameters['gamma'] (focal loss, Lin et al. 2017)", "focusing parameter γ"),
        "lam": Hyper(0.1, "xbench [R] (torchcmh uses 0 active / 1 commented); the text codes collapse on "
                     "synthetic at 0.1 and 1 alike (docs/health.md)",
                     "weight λ of the quantization term"),
        "quantization": Hyper("exponential", "reconstruction [R] (methods.md §4: exact form unknown)",
                              "exponential: β·d(|h|, 1); square: Σ(|h|−1)²", choices=("exponential", "square")),
        "batch_size": Hyper(128, _T, "mini-batch size"),
        "lr_image": Hyper(0.02, f"{_T}: lr['img']", "SGD learning rate of the image network"),
        "lr_text": Hyper(0.2, f"{_T}: lr['txt']", "SGD learning rate of the text network"),
        "momentum": Hyper(0.9, _T, "SGD momentum"),
        "weight_decay": Hyper(0.0, f"{_T}: SGD without weight decay", "SGD weight decay"),
        "lr_step": Hyper(15, f"{_T}: lr_decay_freq", "halve (× lr_decay) the learning rates every lr_step epochs"),
        "lr_decay": Hyper(0.5, f"{_T}: lr_decay", "multiplicative learning-rate decay per step"),
        "input_norm": Hyper("auto", "as dcmh (InputNormalisation)", "auto, none, center or standardize",
                            choices=("auto", "none", "center", "standardize")),
        "backbone_weights": Hyper("imagenet", "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
                                  "raw images only: ResNet-18 weights — imagenet, none or a checkpoint path"),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        if int(hp["batch_size"]) < 2:
            raise ValueError(f"cmhh.batch_size: expected an integer ≥ 2 (pairs within a batch), got {hp['batch_size']}")
        if int(hp["lr_step"]) < 1:
            raise ValueError(f"cmhh.lr_step: expected a positive integer, got {hp['lr_step']}")
        self.image_net = ImageNet(shape.image, bits, out_activation="tanh", weights=hp["backbone_weights"])
        self.text_net = TextNet(text_input_dim(shape), bits, out_activation="tanh")
        self.inputs = InputNormalisation(shape, hp["input_norm"])
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self._fitted = False

    def net(self, modality: str) -> torch.nn.Module:
        return self.image_net if modality == "image" else self.text_net

    def optimizer(self, modality: str) -> torch.optim.Optimizer:
        if modality not in self._optimizers:
            self._optimizers[modality] = torch.optim.SGD(
                self.net(modality).parameters(), lr=float(self.hp[f"lr_{modality}"]),
                momentum=float(self.hp["momentum"]), weight_decay=float(self.hp["weight_decay"]))
        return self._optimizers[modality]

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.net(modality)(self.inputs(modality, x))

    def pair_loss(self, h_image: torch.Tensor, h_text: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Class-balanced exponential focal loss (1/|S|) Σ w_ij ℓ_ij over the given pairs."""
        dist = continuous_hamming(h_image, h_text)
        focal = exponential_focal_loss(dist, s, float(self.hp["beta"]), float(self.hp["gamma"]))
        return (class_balanced_weights(s) * focal).sum() / s.numel()

    def quantization(self, h: torch.Tensor) -> torch.Tensor:
        """Per-row quantization penalty (before λ)."""
        if self.hp["quantization"] == "square":
            return square_quantization_loss(h)
        return exponential_quantization_loss(h, float(self.hp["beta"]))

    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        if not self._fitted:
            self.inputs.fit(data)
            self._fitted = True
        factor = float(self.hp["lr_decay"]) ** (epoch // int(self.hp["lr_step"]))
        for modality in ("image", "text"):
            for group in self.optimizer(modality).param_groups:
                group["lr"] = float(self.hp[f"lr_{modality}"]) * factor
        li, lt = data.labels_of("image"), data.labels_of("text")
        lam = float(self.hp["lam"])
        sums = {"loss": 0.0, "focal": 0.0, "quantization": 0.0}
        count = 0
        for idx in self.batches(len(data), int(self.hp["batch_size"])):
            if len(idx) < 2:
                continue
            h_image = self.continuous("image", data.image[idx])
            h_text = self.continuous("text", data.text[idx])
            focal = self.pair_loss(h_image, h_text, similarity(li[idx], lt[idx]))
            quant = lam * 0.5 * (self.quantization(h_image).mean() + self.quantization(h_text).mean())
            loss = focal + quant
            for modality in ("image", "text"):
                self.optimizer(modality).zero_grad(set_to_none=True)
            loss.backward()
            for modality in ("image", "text"):
                self.optimizer(modality).step()
            sums["loss"] += float(loss.detach())
            sums["focal"] += float(focal.detach())
            sums["quantization"] += float(quant.detach())
            count += 1
        out = {k: v / max(count, 1) for k, v in sums.items()}
        out["lr_image"] = float(self.hp["lr_image"]) * factor
        return out

    @torch.no_grad()
    def sample_losses(self, data: TrainData) -> np.ndarray | None:
        """Per item i: mean over j of the focal loss of (image i, text j) and (text i, image j).

        Class-balance weights are those of all n × n cross-modal pairs; the losses use the
        networks' current outputs on the whole (noisy) training set.
        """
        was_training = self.training
        self.eval()
        try:
            h_i = torch.cat([self.continuous("image", data.image[s:s + 1024]) for s in range(0, len(data), 1024)])
            h_t = torch.cat([self.continuous("text", data.text[s:s + 1024]) for s in range(0, len(data), 1024)])
        finally:
            self.train(was_training)
        li, lt = data.labels_of("image"), data.labels_of("text")
        n = len(data)
        n_pos = sum(float(similarity(li[s:s + 1024], lt).sum()) for s in range(0, n, 1024))
        total = float(n) * n
        w_pos = total / n_pos if n_pos > 0 else 0.0
        w_neg = total / (total - n_pos) if total > n_pos else 0.0
        beta, gamma = float(self.hp["beta"]), float(self.hp["gamma"])
        out = torch.zeros(n, device=h_i.device)
        for start in range(0, n, 1024):
            sl = slice(start, start + 1024)
            for a, b, la, lb in ((h_i, h_t, li, lt), (h_t, h_i, lt, li)):
                s = similarity(la[sl], lb)
                w = torch.where(s > 0, torch.full_like(s, w_pos), torch.full_like(s, w_neg))
                out[sl] += 0.5 * (w * exponential_focal_loss(continuous_hamming(a[sl], b), s, beta, gamma)).mean(1)
        return out.cpu().numpy()

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"radius": float(np.log(2.0) / float(self.hp["beta"]))}
