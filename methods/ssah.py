"""``ssah``: Self-Supervised Adversarial Hashing (Li, Deng, Li, Liu, Gao, Tao, CVPR 2018).

Sources: ../shared/reference/methods.md §3 and §8; official code lelan-li/SSAH @ 8780b20
(``SSAH.py`` L96-130 losses, L160-260 schedule, L290-420 the per-block passes; ``tnet.py``
networks; ``setting.py`` L53-76 constants; ``ops.py`` ``mse_criterion``). The paper text was
not available to us; statements about it are marked [R] (recollection, unverified).

Blocks (all on the CMMQ paper's fair-comparison networks, §4.2 of
../shared/papers/003_b3f79eb70ae8a9fd.txt):

* **LabNet** (self-supervised semantic network, ``tnet.py`` ``lab_net``): multi-hot label →
  4096 (ReLU, LRN) → 512 (ReLU) = the semantic *feature* F^l, then a hash head → K (tanh)
  = H^l and a label head → C (sigmoid) = L̂^l. Every weight and bias ~ 0.01·N(0, 1) [C].
* **ImgNet / TxtNet**: the shared :class:`~xbench.methods.networks.ImageNet` (ResNet-18 →
  FC, or FC on precomputed features) and :class:`~xbench.methods.networks.TextNet`
  (three-layer MLP, hidden ⌈(T+K)/2⌉ as for ``cmmq``) with their last layer widened to the
  512-d semantic feature (ReLU), followed by SSAH's hash (K, tanh) and label (C, sigmoid)
  heads. This replaces VGG-F and the multi-scale text net of the official code, as the CMMQ
  authors did for their Table 2 ("the same backbone for our method and the four baselines");
  how exactly they attached SSAH's heads is not published — this placement is a
  reconstruction [R].
* **Discriminators** D_IL, D_TL (:mod:`xbench.methods.adversarial`): label features are
  "real", image / text features "fake".

Objective (per mini-batch b of modality *, against LabNet's full-training-set buffers;
sums, as the official ``mse_criterion`` (½·Σ) and the paper's Σ_{i,j}):

    Θ^F = ½ F^l_buf F^*_bᵀ,   Θ^H = ½ H^l_buf H^*_bᵀ,   S = s·[l_i·l_j > 0]  (n × |b|)
    L^* = α·J(Θ^F, S) + γ·J(Θ^H, S) + β·½‖B_b − H^*_b‖² + η·½‖L_b − L̂^*_b‖² + δ·L_adv^*

with LabNet's own loss the same first four terms against its own buffers (F^l, H^l). J is

* ``pairwise="nll"``: Σ (log(1 + e^Θ) − S∘Θ), the DCMH negative log-likelihood the paper
  writes [R] — the default (the issue and methods.md §3 name it the paper's form);
* ``pairwise="squared"``: ½ Σ (S∘Θ − log(1 + e^Θ))², what the official code minimises
  (``mse_criterion(Sim∘θ, log(1+e^θ))``).

``similarity`` s = 1 (paper) or 0.999 (``setting.py`` L53). The quantization target B is
sign of the batch's own output (``quant_target="own"``, the official code — its global
B = sign(H + F + G) is computed but never used) or that global B, recomputed after each
epoch (``"shared"``, a reconstruction [R]).

Adversarial term (``adversarial``):

* ``"paper"`` (default): δ·ℓ(D(F^*_b), 1) is backpropagated into the feature extractor with
  the discriminator frozen — the min–max the paper describes (non-saturating form);
* ``"code"``: as the official code behaves. D is fed numpy copies of the features, so the
  term never reaches ImgNet/TxtNet; because the modality step's optimiser covers every
  trainable variable, it only nudges D towards calling modality features "real" (with the
  modality's learning rate). Reproduced by evaluating the term on detached features and
  letting the modality optimiser update D.
* ``"none"``: no adversarial term and no discriminator step (ablation).

(In the official image step D is fed the whole stale image-feature buffer; here the current
batch's features, detached.) With the official reductions the adversarial term (a batch
mean, δ = 1) is ~n times smaller than the pairwise sums, so the three settings end within
±0.005 mAP of each other on ``synthetic`` (README). Measured limitation: on single-label
data with ~10% similar pairs (Wikipedia) ImgNet/TxtNet collapse to one common code
(anti-aligned with LabNet's nearly orthogonal class codes, which the likelihood prefers over
per-class codes) and mAP stays at chance, with clean labels too.

Schedule per :meth:`SSAH.fit_epoch` (the official order): one LabNet pass, one
discriminator pass, one ImgNet pass, one TxtNet pass (mini-batches partition the shuffled
training set; the official code draws an independent random batch per iteration and repeats
passes with early breaks: LabNet 10+5, D 1+1, ImgNet/TxtNet 15+7+5). One Adam optimiser per
block (LabNet, ImgNet, TxtNet, discriminators). Learning rates lr_x·decay^epoch, starting at
the official 10^-2 / 10^-4.5 / 10^-3.5 / 10^-3 (label / image / text / D) except LabNet's,
1e-3 (at 10^-2 Adam steps dwarf the 0.01-scale initial weights, LabNet's ReLU features die
and its codes collapse on single-label data — measured on Wikipedia; 1e-3 matches 10^-2 on
``synthetic``). 10^-4.5 is for fine-tuning VGG-F end to end, so with precomputed image
features — FC layers trained from scratch — the image rate defaults to 1e-3 (validated on
``synthetic``). The official code
divides the rates by √10 per epoch of ~15-27 passes per block, about 0.95 per pass; an xbench
epoch is one pass per block, so ``lr_decay`` defaults to 0.95 (reconstruction of the schedule's
rate, not its form). 30 epochs by default (≈ 1-2 official epochs; the TF2 port reports its best
result after one).

Buffers over the whole training set (LabNet features and codes; ImgNet/TxtNet codes for the
shared B) are built by a forward pass on the first :meth:`fit_epoch` call (the official
code fills them with N(0, 1) noise and overwrites them batch by batch; starting from the
networks' actual outputs avoids pulling the first pass towards noise — a deviation).
Codes: sign of the tanh hash output of ImgNet / TxtNet.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from . import register
from .adversarial import (
    ADVERSARIAL_FORMS,
    Discriminator,
    discriminator_accuracy,
    discriminator_loss,
    generator_loss,
)
from .base import Hasher, Hyper, TrainData
from .networks import ImageNet, TextNet

PAIRWISE_FORMS = ("nll", "squared")
CODE = "lelan-li/SSAH @ 8780b20"


# ---------------------------------------------------------------------------------- losses
def similarity_matrix(labels_all: torch.Tensor, labels_batch: torch.Tensor, value: float = 1.0) -> torch.Tensor:
    """S (n × b): ``value`` where two items share at least one label, else 0."""
    return (labels_all.float() @ labels_batch.float().t() > 0).float() * value


def pairwise_loss(anchors: torch.Tensor, outputs: torch.Tensor, s: torch.Tensor, form: str = "nll") -> torch.Tensor:
    """J between the (fixed) buffer ``anchors`` (n × d) and a batch's ``outputs`` (b × d).

    Θ = ½·anchors·outputsᵀ; ``nll``: Σ softplus(Θ) − S∘Θ; ``squared``: ½ Σ (S∘Θ − softplus(Θ))².
    """
    theta = 0.5 * anchors @ outputs.t()
    if form == "nll":
        return (F.softplus(theta) - s * theta).sum()
    if form == "squared":
        return 0.5 * (s * theta - F.softplus(theta)).pow(2).sum()
    raise ValueError(f"pairwise form must be one of {PAIRWISE_FORMS}, got {form!r}")


def half_sq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """½‖a − b‖² summed (the official ``mse_criterion``)."""
    return 0.5 * (a - b).pow(2).sum()


# ---------------------------------------------------------------------------------- networks
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

    PyTorch divides α by the window size, so its α is 5·1e-4 (methods.md §1, pitfalls).
    """

    def __init__(self, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75):
        super().__init__()
        size = 2 * depth_radius + 1
        self.norm = nn.LocalResponseNorm(size, alpha=alpha * size, beta=beta, k=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.unsqueeze(-1)).squeeze(-1)


class LabelNet(nn.Module):
    """LabNet: labels → hidden (ReLU, LRN) → embed (ReLU) → heads (``tnet.py`` ``lab_net``)."""

    def __init__(self, num_classes: int, bits: int, hidden: int = 4096, embed_dim: int = 512,
                 init_std: float | None = 0.01):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(num_classes, hidden), nn.ReLU(), LocalResponseNorm1d(),
                                   nn.Linear(hidden, embed_dim), nn.ReLU())
        if init_std is not None:
            _normal_init(self.trunk, init_std)
        self.heads = SSAHHeads(embed_dim, bits, num_classes, init_std)

    def forward(self, labels: torch.Tensor) -> SSAHOutput:
        return self.heads(self.trunk(labels.float()))


class ModalityNet(nn.Module):
    """A shared image/text network producing the semantic feature, plus SSAH's heads."""

    def __init__(self, trunk: nn.Module, embed_dim: int, bits: int, num_classes: int,
                 init_std: float | None = 0.01):
        super().__init__()
        self.trunk = trunk
        self.heads = SSAHHeads(embed_dim, bits, num_classes, init_std)

    def forward(self, x: torch.Tensor) -> SSAHOutput:
        return self.heads(self.trunk(x))


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``module``'s parameters (they still pass through it)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


# ---------------------------------------------------------------------------------- method
@register
class SSAH(Hasher):
    name = "ssah"
    paper = "Li, Deng, Li, Liu, Gao, Tao: Self-Supervised Adversarial Hashing Networks for Cross-Modal Retrieval, CVPR 2018"
    description = "label network guides image/text nets (pairwise likelihood on features and codes) + modality discriminators"
    default_epochs = 30
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "alpha": Hyper(1.0, f"{CODE} setting.py L66", "weight α of the pairwise term on semantic features"),
        "gamma": Hyper(1.0, f"{CODE} setting.py L67", "weight γ of the pairwise term on hash outputs"),
        "beta": Hyper(1.0, f"{CODE} setting.py L68", "weight β of the quantization term ½‖B − H‖²"),
        "eta": Hyper(1.0, f"{CODE} setting.py L69", "weight η of the label-prediction term ½‖L − L̂‖²"),
        "delta": Hyper(1.0, f"{CODE} setting.py L70", "weight δ of the modality networks' adversarial term"),
        "pairwise": Hyper("nll", "paper (DCMH-style likelihood) [R]; 'squared' = official SSAH.py L104-124",
                          "pairwise term: nll (paper) or squared (official code)", choices=PAIRWISE_FORMS),
        "similarity": Hyper(1.0, "paper S ∈ {0,1}; official setting.py L53 uses 0.999",
                            "value of S_ij for pairs sharing a label"),
        "quant_target": Hyper("own", f"{CODE} SSAH.py L319, L395, L438 (B_batch = sign of own output)",
                              "own: sign of the batch's own output (code); shared: B = sign(H^l+F+G) per epoch [R]",
                              choices=("own", "shared")),
        "adversarial": Hyper("paper", "issue 7 / methods.md §3 pitfall",
                             "paper: adversarial term reaches the feature extractors (D frozen); code: it never "
                             "does and only nudges D (official behaviour); none: no adversarial learning",
                             choices=("paper", "code", "none")),
        "adversarial_form": Hyper("bce", f"{CODE} ops.py sce_criterion; 'squared' = paper's ‖D(x) − y‖² [R]",
                                  "adversarial loss on the discriminator output", choices=ADVERSARIAL_FORMS),
        "embed_dim": Hyper(512, f"{CODE} setting.py SEMANTIC_EMBED", "width of the semantic feature layer"),
        "label_hidden": Hyper(4096, f"{CODE} tnet.py lab_net LAYER1_NODE", "LabNet hidden width"),
        "text_hidden": Hyper(0, "CMMQ release heuristic ⌈(T+K)/2⌉ (methods.md §7.2), as for cmmq",
                             "text MLP hidden width; 0 = ⌈(T+K)/2⌉"),
        "init_std": Hyper(0.01, f"{CODE} tnet.py (all weights and biases 0.01·N(0,1))",
                          "std of LabNet, heads and discriminator initial weights and biases; 0 = PyTorch's "
                          "default initialisation"),
        "batch_size": Hyper(128, f"{CODE} setting.py batch_size", "mini-batch size"),
        "lr_label": Hyper(1e-3, f"xbench (official 1e-2, {CODE} setting.py L73, kills LabNet's ReLU features and "
                          "collapses its codes on single-label data — measured on wikipedia; 1e-3 matches it on "
                          "synthetic)", "LabNet Adam learning rate"),
        "lr_image": Hyper(10 ** -4.5, f"{CODE} setting.py L74 (0.1^4.5, fine-tuning VGG-F end to end)",
                          "ImgNet Adam learning rate; features mode: 1e-3 (the FC layers on precomputed features are "
                          "trained from scratch; validated on synthetic, see the README)", features_default=1e-3),
        "lr_text": Hyper(10 ** -3.5, f"{CODE} setting.py L75 (0.1^3.5)", "TxtNet Adam learning rate"),
        "lr_dis": Hyper(1e-3, f"{CODE} setting.py L76 (0.1^3.0)", "discriminator Adam learning rate"),
        "lr_decay": Hyper(0.95, f"{CODE} setting.py L72-76: lr ÷ √10 per official epoch of ~15-27 passes per block, "
                          "≈ 0.95 per pass; an xbench epoch is one pass", "multiplicative learning-rate decay per epoch"),
        "weights": Hyper("imagenet", "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
                         "ResNet-18 weights for raw images: imagenet, none or a checkpoint path"),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        c, e = shape.num_classes, int(hp["embed_dim"])
        std = float(hp["init_std"]) if float(hp["init_std"]) > 0 else None  # None: PyTorch's default init
        text_dim = int(shape.text.dim if isinstance(shape.text.dim, int) else math.prod(shape.text.dim))
        text_hidden = int(hp["text_hidden"]) or math.ceil((text_dim + bits) / 2)
        self.label_net = LabelNet(c, bits, int(hp["label_hidden"]), e, std)
        self.image_net = ModalityNet(ImageNet(shape.image, e, out_activation="relu", weights=hp["weights"]), e, bits,
                                     c, std)
        self.text_net = ModalityNet(TextNet(text_dim, e, hidden=text_hidden, out_activation="relu"), e, bits, c, std)
        self.d_image = Discriminator(e, init_std=std)
        self.d_text = Discriminator(e, init_std=std)
        self.to(self.device)
        code_mode = hp["adversarial"] == "code"
        self.optimizers = {
            "label": torch.optim.Adam(self.label_net.parameters(), lr=hp["lr_label"]),
            "image": torch.optim.Adam(list(self.image_net.parameters())
                                      + (list(self.d_image.parameters()) if code_mode else []), lr=hp["lr_image"]),
            "text": torch.optim.Adam(list(self.text_net.parameters())
                                     + (list(self.d_text.parameters()) if code_mode else []), lr=hp["lr_text"]),
            "dis": torch.optim.Adam(list(self.d_image.parameters()) + list(self.d_text.parameters()), lr=hp["lr_dis"]),
        }
        self.base_lr = {"label": hp["lr_label"], "image": hp["lr_image"], "text": hp["lr_text"], "dis": hp["lr_dis"]}
        # full-training-set buffers, built on the first fit_epoch call
        self.register_buffer("feat_label", torch.empty(0, e, device=self.device), persistent=False)
        self.register_buffer("code_label", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("code_image", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("code_text", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("B", torch.empty(0, bits, device=self.device), persistent=False)

    # ------------------------------------------------------------------ helpers
    def _net(self, modality: str) -> ModalityNet:
        return self.image_net if modality == "image" else self.text_net

    def _discriminator(self, modality: str) -> Discriminator:
        return self.d_image if modality == "image" else self.d_text

    @torch.no_grad()
    def _forward_all(self, net: nn.Module, x: torch.Tensor, chunk: int = 1024) -> SSAHOutput:
        outs = [net(x[i:i + chunk]) for i in range(0, x.shape[0], chunk)]
        return SSAHOutput(*(torch.cat([getattr(o, f) for o in outs]) for f in ("feature", "hash", "label")))

    def build_buffers(self, data: TrainData) -> None:
        """Fill the buffers with the current networks' outputs on the whole training set."""
        lab = self._forward_all(self.label_net, data.labels)
        self.feat_label, self.code_label = lab.feature.clone(), lab.hash.clone()
        self.code_image = self._forward_all(self.image_net, data.image).hash.clone()
        self.code_text = self._forward_all(self.text_net, data.text).hash.clone()
        self.B = torch.sign(self.code_label + self.code_image + self.code_text)

    def _set_lr(self, epoch: int) -> None:
        factor = float(self.hp["lr_decay"]) ** epoch
        for key, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr[key] * factor

    def _quant_target(self, own_hash: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if self.hp["quant_target"] == "shared":
            return self.B[idx]
        return torch.sign(own_hash.detach())

    # ------------------------------------------------------------------ the three blocks
    def _label_step(self, data: TrainData, idx: torch.Tensor) -> float:
        hp = self.hp
        out = self.label_net(data.labels[idx])
        self.feat_label[idx] = out.feature.detach()
        self.code_label[idx] = out.hash.detach()
        s = similarity_matrix(data.labels, data.labels[idx], hp["similarity"])
        loss = (hp["alpha"] * pairwise_loss(self.feat_label, out.feature, s, hp["pairwise"])
                + hp["gamma"] * pairwise_loss(self.code_label, out.hash, s, hp["pairwise"])
                + hp["beta"] * half_sq(self._quant_target(out.hash, idx), out.hash)
                + hp["eta"] * half_sq(data.labels[idx], out.label))
        opt = self.optimizers["label"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach()) / len(idx)

    def _dis_step(self, data: TrainData, idx: torch.Tensor) -> tuple[float, float]:
        form = self.hp["adversarial_form"]
        with torch.no_grad():
            f_label = self.label_net(data.labels[idx]).feature
            f_image = self.image_net(data.image[idx]).feature
            f_text = self.text_net(data.text[idx]).feature
        loss = discriminator_loss(self.d_image, self.d_text, f_label, f_image, f_text, form)
        opt = self.optimizers["dis"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach()), discriminator_accuracy(self.d_image, self.d_text, f_label, f_image, f_text, form)

    def _modality_loss(self, modality: str, data: TrainData, idx: torch.Tensor, out: SSAHOutput
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(total loss, adversarial term) of a modality network's batch."""
        hp = self.hp
        labels_m = data.labels_of(modality)
        s = similarity_matrix(data.labels, labels_m[idx], hp["similarity"])
        loss = (hp["alpha"] * pairwise_loss(self.feat_label, out.feature, s, hp["pairwise"])
                + hp["gamma"] * pairwise_loss(self.code_label, out.hash, s, hp["pairwise"])
                + hp["beta"] * half_sq(self._quant_target(out.hash, idx), out.hash)
                + hp["eta"] * half_sq(labels_m[idx], out.label))
        adv = torch.zeros((), device=loss.device)
        if hp["adversarial"] == "paper":
            with frozen(self._discriminator(modality)):
                adv = generator_loss(self._discriminator(modality), out.feature, hp["adversarial_form"])
        elif hp["adversarial"] == "code":
            adv = generator_loss(self._discriminator(modality), out.feature.detach(), hp["adversarial_form"])
        return loss + hp["delta"] * adv, adv

    def _modality_step(self, modality: str, data: TrainData, idx: torch.Tensor) -> tuple[float, float]:
        out = self._net(modality)(getattr(data, modality)[idx])
        getattr(self, f"code_{modality}")[idx] = out.hash.detach()
        loss, adv = self._modality_loss(modality, data, idx, out)
        opt = self.optimizers[modality]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach()) / len(idx), float(adv.detach())

    # ------------------------------------------------------------------ the interface
    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        n = len(data)
        if self.feat_label.shape[0] != n:
            self.build_buffers(data)
        self._set_lr(epoch)
        bs = int(self.hp["batch_size"])
        log: dict[str, list[float]] = {k: [] for k in ("label", "dis", "dis_acc", "image", "text", "adv_image",
                                                       "adv_text")}
        for idx in self.batches(n, bs):
            log["label"].append(self._label_step(data, idx))
        if self.hp["adversarial"] != "none":
            for idx in self.batches(n, bs):
                loss, acc = self._dis_step(data, idx)
                log["dis"].append(loss)
                log["dis_acc"].append(acc)
        for modality in ("image", "text"):
            for idx in self.batches(n, bs):
                loss, adv = self._modality_step(modality, data, idx)
                log[modality].append(loss)
                log[f"adv_{modality}"].append(adv)
        if self.hp["quant_target"] == "shared":
            self.B = torch.sign(self.code_label + self.code_image + self.code_text)
        mean = {k: (sum(v) / len(v) if v else 0.0) for k, v in log.items()}
        return {"loss": mean["image"] + mean["text"], "loss_label": mean["label"], "loss_image": mean["image"],
                "loss_text": mean["text"], "loss_dis": mean["dis"], "dis_acc": mean["dis_acc"],
                "adv_image": mean["adv_image"], "adv_text": mean["adv_text"]}

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self._net(modality)(x).hash

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"adversarial": self.hp["adversarial"], "pairwise": self.hp["pairwise"]}
