"""``dcmh``: Deep Cross-Modal Hashing (Jiang & Li, CVPR 2017).

Objective (paper Eq. 3; official ``process_DCMH.m`` ``calc_loss`` and TF ``DCMH_demo.py``
L100-106; DCMH official code jiangqy/DCMH-CVPR2017 @ 67d0e84), in row layout (F, G, B are n×K):

    J = −Σ_{i,j} (S_ij Θ_ij − log(1 + e^{Θ_ij})) + γ(‖B − F‖²_F + ‖B − G‖²_F) + η(‖Fᵀ1‖² + ‖Gᵀ1‖²)

with Θ_ij = ½ F_iᵀ G_j (image output i, text output j), S_ij = [l_i·l_j > 0] from the
(noisy) training labels, γ = η = 1 (``DCMH_demo.m`` L22-23).

Training (Alg. 1 of the paper; both official codes), one :meth:`fit_epoch`:

1. image network: ⌈n/bs⌉ mini-batches; for each, the batch outputs u replace their rows
   of the buffer F, and the loss of the batch against **all n** items — Θ = ½ u Gᵀ with
   the text buffer G and B fixed, S(batch, all n), ‖B_batch − u‖², and the balance over the
   whole buffer ‖Fᵀ1‖² — divided by n·bs (``update_net.m`` L6, TF L212) is minimised by SGD;
2. the text network likewise with F and B fixed;
3. B = sign(F + G) (γ > 0).

The networks are the suite's shared ones (the CMMQ paper's fair-comparison setting §4.2):
ResNet-18 + FC(K) for raw images / FC(K) on precomputed features, and the 3-layer text
MLP — both with **linear** outputs, as DCMH's fc8 (no tanh; net_structure_img.m L11-17).
Codes = sign of each network's output.

Choices and deviations (all switchable):

* ``buffer_init=zeros`` — the MATLAB release (which the authors recommend) starts from
  F = G = 0, so B = 0 during the first epoch; ``normal`` is the TF code's N(0, 1).
* B is updated at the end of each epoch (TF); the MATLAB code updates it at the start of
  the next one — the same sequence of B values.
* ``first=image`` — paper Alg. 1 and TF; the MATLAB release runs the text network first.
* ``sampling=draw`` — each of the ⌈n/bs⌉ batches is an independent draw of bs items as in
  the paper and both codes; ``epoch`` uses one shuffled partition per pass instead.
* Optimiser: plain SGD with weight decay 5e-4 (biases included, ``update_net.m``) and the
  MATLAB schedule lr = logspace(−1.5, −3) over the run for each network (``DCMH_demo.m``
  L19-21). The schedule needs the run length: ``schedule_epochs`` or the runner's
  ``TrainData.extra['epochs']``, else ``default_epochs`` (``param.maxIter = 500``, ``DCMH_demo.m`` L19).
* Inputs: BoW centred (``normZeroMean``, ``DCMH_demo.m`` L27); precomputed features
  standardised (xbench; ``input_norm``, see
  :class:`~xbench.methods.pairwise.InputNormalisation`).
* Features mode (precomputed image features, a linear hash layer on them): the initial
  learning rates are 1.0 (image) and 3.0 (text) instead of 10^−1.5 — at 10^−1.5 the
  pairwise NLL on ``synthetic`` barely leaves log 2 in 500 epochs (mAP 0.64 / 0.71
  against 0.76 / 0.77); validated on ``synthetic`` and Wikipedia (README, pairwise
  baselines). SGD stability: along the output bias the balance term has curvature
  2η·bs/n, so keep lr < n/(η·bs) on small training sets.
* Image hash layer initialised N(0, 0.01²) (fc8 of ``net_structure_img.m``); the shared
  3-layer text MLP keeps PyTorch's initialisation (DCMH's own text net is BoW→8192→K).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from .base import Hyper, TrainData
from .pairwise import (
    balance_loss,
    pairwise_nll,
    quantization_loss,
    theta,
)
from .shared_codes import SKELETON_HYPERPARAMETERS, SharedCodeHasher


class DCMH(SharedCodeHasher):
    name = "dcmh"
    display_name, order, color, marker = "DCMH", 30, "#de8f05", "s"
    paper = "Jiang & Li, Deep Cross-Modal Hashing, CVPR 2017"
    description = (
        "pairwise NLL (Θ = ½FᵀG, batch × all-n via output buffers) + quantization to shared codes B "
        "+ bit balance; alternating image/text SGD, then B = sign(F+G); linear outputs"
    )
    default_epochs = 500
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        **SKELETON_HYPERPARAMETERS,
        "lr_image": Hyper(
            10**-1.5,
            "DCMH code DCMH_demo.m L19-21 (lr_img = logspace(-1.5, -3)); features mode: "
            "xbench, validated on synthetic (README, pairwise baselines)",
            "initial SGD learning rate of the image network",
            features_default=1.0,
        ),
        "lr_text": Hyper(
            10**-1.5,
            "DCMH code DCMH_demo.m L19-21 (lr_txt = logspace(-1.5, -3)); features mode: "
            "xbench, validated on synthetic (README, pairwise baselines)",
            "initial SGD learning rate of the text network",
            features_default=3.0,
        ),
    }

    def batch_terms(
        self, modality: str, u: torch.Tensor, idx: torch.Tensor, data: TrainData
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        other = self.other(modality)
        scale = 1.0 / (len(data) * len(idx))
        s = self.similarity_rows(data.labels_of(modality), data.labels_of(other), idx)
        terms = {
            "nll": pairwise_nll(theta(u, self.buffer(other)), s).sum() * scale,
            "quantization": float(self.hp["gamma"]) * quantization_loss(self.B[idx], u) * scale,
            "balance": float(self.hp["eta"]) * balance_loss(self.column_sum_with(modality, u, idx)) * scale,
        }
        return sum(terms.values()), terms

    def objective_terms(self, data: TrainData) -> dict[str, float]:
        """J of the paper on the buffers after the B-step, divided by n² (per pair)."""
        n2 = float(len(data)) ** 2
        nll = self.chunked_nll(self.F, self.G, data.labels_of("image"), data.labels_of("text"))
        quant = float(quantization_loss(self.B, self.F) + quantization_loss(self.B, self.G))
        bal = float(balance_loss(self.F.sum(0)) + balance_loss(self.G.sum(0)))
        total = nll + float(self.hp["gamma"]) * quant + float(self.hp["eta"]) * bal
        return {"objective": total / n2, "objective_nll": nll / n2}
