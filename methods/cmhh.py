"""``cmhh``: Cross-Modal Hamming Hashing (Cao, Liu, Long, Wang, ECCV 2018) — reconstruction [R].

CMHH has no public code (the CMMQ authors re-implemented it and did not release it; CMMQ
paper §4.2), and only its abstract was read for xbench: "a pairwise focal loss based on
the exponential distribution" that "penalizes significantly on similar cross-modal pairs
with Hamming distance larger than the Hamming radius threshold". The loss below is the
reconstruction [R] from the abstract, in the style of the same group's DCH
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

Defaults: γ = 2 (focal loss; torchcmh ``training/CMHH.py`` ``parameters``); β = 1.6/K (xbench,
so that βK/2 = 0.8: a pair at the initial distance K/2 has p ≈ 0.45 and dissimilar pairs push
apart from the start; torchcmh's commented-out β = 0.25 of WangGodder/deep-cross-modal-hashing
@5bc3add L132, on the inner-product distance of L193-194, gives p ≈ 0.02 at K = 32 and lets the
codes collapse — docs/health.md); λ = 0.1 (xbench); SGD with momentum 0.9, lr 0.02 (image) and
0.2 (text) halved every 15 epochs, batch 128 (torchcmh @ 9784397: batch L25, rates L30-32, SGD
momentum L48-49). torchcmh trains 500 epochs; with the lr halved every 15 epochs it is below 2% of
the initial rate after 90 epochs, so ``default_epochs`` is 100 (xbench). Networks, tanh outputs:
the suite's ImageNet (CMMQ paper §4.2) and, by default, the text network of the CMMQ release as
it computes (``text_net=linear2``: fc3(fc1(x)), :class:`~xbench.methods.networks.ReleaseTextNet`;
the CMMQ authors re-implemented CMHH, §4.2), with PyTorch's initialisation (``text_init``).
``text_net=mlp3``, the three-layer ReLU MLP of the CMMQ paper, collapses the text codes to one
code under symmetric:0.6: its non-negative hidden layer gives every text output a large common
component, and with labels that carry little per-item signal the loss moves that common
direction towards the image codes (docs/health.md).
Inputs of both modalities are standardised (``input_norm``, :mod:`xbench.methods.inputs`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from .base import Hasher, Hyper, TrainData
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .networks import ImageNet, ReleaseTextNet, TextNet
from .pairwise import (
    class_balanced_weights,
    continuous_hamming,
    exponential_focal_loss,
    exponential_quantization_loss,
    similarity,
    square_quantization_loss,
    text_input_dim,
)
from .schedules import Schedule

_T = "torchcmh @ 9784397 training/CMHH.py L25-49 [T]"


class CMHH(Hasher):
    name = "cmhh"
    display_name, order, color, marker = "CMHH", 60, "#cc78bc", "D"
    paper = "Cao, Liu, Long, Wang, Cross-Modal Hamming Hashing, ECCV 2018 (reconstruction)"
    description = (
        "exponential-distribution pairwise focal loss on a continuous Hamming distance with "
        "class-balanced weights + quantization; within-batch cross-modal pairs; tanh outputs [R]"
    )
    default_epochs = 100
    health_note = (
        "under heavy label noise the reconstructed objective prefers one common text code: with "
        "text_net=mlp3 the text codes collapse, with linear2 partly on Wikipedia (docs/health.md)"
    )
    has_sample_losses = True
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "beta": Hyper(
            0.0,
            "xbench: 1.6/K so that βK/2 = 0.8 at every K (docs/health.md: with a fixed β the codes "
            "collapse); torchcmh @5bc3add training/CMHH.py L132 (commented-out joint train(), removed in "
            "969ce26) has beta = 0.25 on the inner-product Hamming distance ½(K − h_xᵀh_y), L193-194 [T] "
            "(@9784397 L29, L112: 0.5 on a Euclidean distance)",
            "rate β of p = exp(−β d) (the radius where p = ½ is ln2/β); 0 = 1.6/K",
        ),
        "gamma": Hyper(
            2.0, f"{_T}: parameters['gamma'] (focal loss, Lin et al. 2017)", "focusing parameter γ"
        ),
        "lam": Hyper(
            0.1,
            "xbench [R] (torchcmh uses 0 active / 1 commented); the text codes collapse on "
            "synthetic at 0.1 and 1 alike (docs/health.md)",
            "weight λ of the quantization term",
        ),
        "quantization": Hyper(
            "exponential",
            "reconstruction [R] (exact form unknown)",
            "exponential: β·d(|h|, 1); square: Σ(|h|−1)²",
            choices=("exponential", "square"),
        ),
        "batch_size": Hyper(128, _T, "mini-batch size"),
        "lr_image": Hyper(0.02, f"{_T}: lr['img']", "SGD learning rate of the image network"),
        "lr_text": Hyper(0.2, f"{_T}: lr['txt']", "SGD learning rate of the text network"),
        "momentum": Hyper(0.9, _T, "SGD momentum"),
        "weight_decay": Hyper(0.0, f"{_T}: SGD without weight decay", "SGD weight decay"),
        "lr_step": Hyper(
            15, f"{_T}: lr_decay_freq", "halve (× lr_decay) the learning rates every lr_step epochs"
        ),
        "lr_decay": Hyper(0.5, f"{_T}: lr_decay", "multiplicative learning-rate decay per step"),
        "input_norm": Hyper(
            "standardize",
            "xbench: both modalities standardised (docs/health.md; was auto, as dcmh)",
            INPUT_NORM_HELP,
            choices=INPUT_NORMS,
        ),
        "text_net": Hyper(
            "linear2",
            "CMMQ release @ 2b17232 network.py L84-112 (TextNet as it computes: fc3(fc1(x)), release init), "
            "the code of the authors who re-implemented CMHH (CMMQ §4.2); mlp3 (CMMQ paper §4.2) collapses "
            "the text codes at symmetric:0.6 (docs/health.md)",
            "text network before tanh: linear2 (release) or mlp3 (three-layer ReLU MLP, CMMQ paper §4.2)",
            choices=("linear2", "mlp3"),
        ),
        "text_init": Hyper(
            "pytorch",
            "xbench: the release's init (network.py L95-100) saturates tanh at the start under SGD at "
            "lr 0.2; PyTorch's gives higher clean mAP in both directions (docs/health.md)",
            "linear2 only: pytorch (PyTorch's default init) or release (fc1 N(0, 0.01), fc3 N(0, 0.5), biases 0)",
            choices=("pytorch", "release"),
        ),
        "backbone_weights": Hyper(
            "imagenet",
            "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
            "raw images only: ResNet-18 weights — imagenet, none or a checkpoint path",
        ),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        if int(hp["batch_size"]) < 2:
            raise ValueError(
                f"cmhh.batch_size: expected an integer ≥ 2 (pairs within a batch), got {hp['batch_size']}"
            )
        if not float(hp["beta"]) >= 0:
            raise ValueError(f"cmhh.beta: expected a number ≥ 0 (0: 1.6/K), got {hp['beta']}")
        if int(hp["lr_step"]) < 1:
            raise ValueError(f"cmhh.lr_step: expected a positive integer, got {hp['lr_step']}")
        self.image_net = ImageNet(shape.image, bits, out_activation="tanh", weights=hp["backbone_weights"])
        if hp["text_net"] == "mlp3":
            self.text_net = TextNet(text_input_dim(shape), bits, out_activation="tanh")
        else:
            release = ReleaseTextNet(text_input_dim(shape), bits)
            if hp["text_init"] == "pytorch":
                for layer in (release.fc1, release.fc2, release.fc3):
                    layer.reset_parameters()
            self.text_net = torch.nn.Sequential(release, torch.nn.Tanh())

    @property
    def beta(self) -> float:
        """β of p = exp(−β d): the ``beta`` hyperparameter, or 1.6/K when it is 0."""
        return float(self.hp["beta"]) or 1.6 / self.bits

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            m: torch.optim.SGD(
                self.net(m).parameters(),
                lr=float(self.hp[f"lr_{m}"]),
                momentum=float(self.hp["momentum"]),
                weight_decay=float(self.hp["weight_decay"]),
            )
            for m in ("image", "text")
        }

    def lr_schedule(self) -> Schedule:
        """torchcmh: × ``lr_decay`` every ``lr_step`` epochs."""
        return Schedule("step", decay=float(self.hp["lr_decay"]), step=int(self.hp["lr_step"]))

    def min_batch_size(self) -> int:
        return 2  # pairs within a batch

    def pair_terms(
        self,
        h_image: torch.Tensor,
        h_text: torch.Tensor,
        s: torch.Tensor,
        counts: tuple[float, float] | None = None,
    ) -> torch.Tensor:
        """Class-balanced exponential focal loss w_ij ℓ_ij of each pair (N×M, not reduced)."""
        dist = continuous_hamming(h_image, h_text)
        focal = exponential_focal_loss(dist, s, self.beta, float(self.hp["gamma"]))
        return class_balanced_weights(s, counts) * focal

    def pair_loss(self, h_image: torch.Tensor, h_text: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """(1/|S|) Σ w_ij ℓ_ij over the given pairs."""
        return self.pair_terms(h_image, h_text, s).sum() / s.numel()

    def quantization(self, h: torch.Tensor) -> torch.Tensor:
        """Per-row quantization penalty (before λ)."""
        if self.hp["quantization"] == "square":
            return square_quantization_loss(h)
        return exponential_quantization_loss(h, self.beta)

    def batch_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> dict[str, torch.Tensor]:
        """(1/|S|) Σ w_ij ℓ_ij over the batch's cross-modal pairs + λ·½(mean quantization of both sides)."""
        h_image = self.continuous("image", data.image[idx])
        h_text = self.continuous("text", data.text[idx])
        s = similarity(data.labels_of("image")[idx], data.labels_of("text")[idx])
        focal = self.pair_loss(h_image, h_text, s)
        lam = float(self.hp["lam"])
        quant = lam * 0.5 * (self.quantization(h_image).mean() + self.quantization(h_text).mean())
        return {"loss": focal + quant, "focal": focal, "quantization": quant}

    def sample_loss_context(self, data: TrainData) -> Any:
        """All outputs, and the class-balance counts of all n × n cross-modal pairs."""
        li, lt = data.labels_of("image"), data.labels_of("text")
        n = len(data)
        n_pos = sum(float(similarity(li[s : s + 1024], lt).sum()) for s in range(0, n, 1024))
        outputs = self.outputs_all("image", data.image), self.outputs_all("text", data.text)
        return (*outputs, (n_pos, float(n) * n))

    def per_sample_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> torch.Tensor:
        """Per item i: mean over j of the focal loss of (image i, text j) and (text i, image j)."""
        h_i, h_t, counts = context
        li, lt = data.labels_of("image"), data.labels_of("text")
        out = torch.zeros(len(idx), device=h_i.device)
        for a, b, la, lb in ((h_i, h_t, li, lt), (h_t, h_i, lt, li)):
            out += 0.5 * self.pair_terms(a[idx], b, similarity(la[idx], lb), counts).mean(1)
        return out

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"radius": float(np.log(2.0) / self.beta)}
