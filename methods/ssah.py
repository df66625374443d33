"""``ssah``: Self-Supervised Adversarial Hashing (Li, Deng, Li, Liu, Gao, Tao, CVPR 2018).

Sources: official code lelan-li/SSAH @ 8780b20
(``SSAH.py`` L96-130 losses, L160-260 schedule, L290-420 the per-block passes; ``tnet.py``
networks; ``setting.py`` L53-76 constants; ``ops.py`` ``mse_criterion``). The paper text was
not available to us; statements about it are marked [R] (recollection, unverified).

Blocks (all on the CMMQ paper's fair-comparison networks, §4.2 of
the CMMQ paper):

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
  writes [R] — the default (the paper's form as we read it);
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
from typing import Any, ClassVar

import torch

from .adversarial import (
    ADVERSARIAL_FORMS,
    Discriminator,
    discriminator_accuracy,
    discriminator_loss,
    frozen,
    generator_loss,
)
from .base import Hasher, Hyper, TrainData
from .epoch_log import EpochLog
from .networks import ImageNet, TextNet
from .pairwise import PAIRWISE_FORMS, half_sq, pairwise_loss, similarity_matrix
from .schedules import Schedule
from .semantic_networks import LabelNet, LocalResponseNorm1d, ModalityNet, SSAHOutput

CODE = "lelan-li/SSAH @ 8780b20"


# ---------------------------------------------------------------------------------- method
class SSAH(Hasher):
    name = "ssah"
    display_name, order, color, marker = "SSAH", 50, "#d55e00", "v"
    paper = "Li, Deng, Li, Liu, Gao, Tao: Self-Supervised Adversarial Hashing Networks for Cross-Modal Retrieval, CVPR 2018"
    description = "label network guides image/text nets (pairwise likelihood on features and codes) + modality discriminators"
    default_epochs = 30
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "alpha": Hyper(1.0, f"{CODE} setting.py L66", "weight α of the pairwise term on semantic features"),
        "gamma": Hyper(1.0, f"{CODE} setting.py L67", "weight γ of the pairwise term on hash outputs"),
        "beta": Hyper(1.0, f"{CODE} setting.py L68", "weight β of the quantization term ½‖B − H‖²"),
        "eta": Hyper(1.0, f"{CODE} setting.py L69", "weight η of the label-prediction term ½‖L − L̂‖²"),
        "delta": Hyper(1.0, f"{CODE} setting.py L70", "weight δ of the modality networks' adversarial term"),
        "pairwise": Hyper(
            "nll",
            "paper (DCMH-style likelihood) [R]; 'squared' = official SSAH.py L104-124",
            "pairwise term: nll (paper) or squared (official code)",
            choices=PAIRWISE_FORMS,
        ),
        "similarity": Hyper(
            1.0,
            "paper S ∈ {0,1}; official setting.py L53 uses 0.999",
            "value of S_ij for pairs sharing a label",
        ),
        "quant_target": Hyper(
            "own",
            f"{CODE} SSAH.py L319, L395, L438 (B_batch = sign of own output)",
            "own: sign of the batch's own output (code); shared: B = sign(H^l+F+G) per epoch [R]",
            choices=("own", "shared"),
        ),
        "adversarial": Hyper(
            "paper",
            "SSAH paper; lelan-li/SSAH SSAH.py L399, L442 never backpropagates it",
            "paper: adversarial term reaches the feature extractors (D frozen); code: it never "
            "does and only nudges D (official behaviour); none: no adversarial learning",
            choices=("paper", "code", "none"),
        ),
        "adversarial_form": Hyper(
            "bce",
            f"{CODE} ops.py sce_criterion; 'squared' = paper's ‖D(x) − y‖² [R]",
            "adversarial loss on the discriminator output",
            choices=ADVERSARIAL_FORMS,
        ),
        "embed_dim": Hyper(512, f"{CODE} setting.py SEMANTIC_EMBED", "width of the semantic feature layer"),
        "label_hidden": Hyper(4096, f"{CODE} tnet.py lab_net LAYER1_NODE", "LabNet hidden width"),
        "text_hidden": Hyper(
            0,
            "CMMQ release heuristic ⌈(T+K)/2⌉ (CMMQ release @ 2b17232), as for cmmq",
            "text MLP hidden width; 0 = ⌈(T+K)/2⌉",
        ),
        "init_std": Hyper(
            0.01,
            f"{CODE} tnet.py (all weights and biases 0.01·N(0,1))",
            "std of LabNet, heads and discriminator initial weights and biases; 0 = PyTorch's "
            "default initialisation",
        ),
        "batch_size": Hyper(128, f"{CODE} setting.py batch_size", "mini-batch size"),
        "lr_label": Hyper(
            1e-3,
            f"xbench (official 1e-2, {CODE} setting.py L73, kills LabNet's ReLU features and "
            "collapses its codes on single-label data — measured on wikipedia; 1e-3 matches it on "
            "synthetic)",
            "LabNet Adam learning rate",
        ),
        "lr_image": Hyper(
            10**-4.5,
            f"{CODE} setting.py L74 (0.1^4.5, fine-tuning VGG-F end to end)",
            "ImgNet Adam learning rate; features mode: 1e-3 (the FC layers on precomputed features are "
            "trained from scratch; validated on synthetic, see the README)",
            features_default=1e-3,
        ),
        "lr_text": Hyper(10**-3.5, f"{CODE} setting.py L75 (0.1^3.5)", "TxtNet Adam learning rate"),
        "lr_dis": Hyper(1e-3, f"{CODE} setting.py L76 (0.1^3.0)", "discriminator Adam learning rate"),
        "lr_decay": Hyper(
            0.95,
            f"{CODE} setting.py L72-76: lr ÷ √10 per official epoch of ~15-27 passes per block, "
            "≈ 0.95 per pass; an xbench epoch is one pass",
            "multiplicative learning-rate decay per epoch",
        ),
        "weights": Hyper(
            "imagenet",
            "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
            "ResNet-18 weights for raw images: imagenet, none or a checkpoint path",
        ),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        c, e = shape.num_classes, int(hp["embed_dim"])
        std = float(hp["init_std"]) if float(hp["init_std"]) > 0 else None  # None: PyTorch's default init
        text_dim = int(shape.text.dim if isinstance(shape.text.dim, int) else math.prod(shape.text.dim))
        text_hidden = int(hp["text_hidden"]) or math.ceil((text_dim + bits) / 2)
        self.label_net = LabelNet(c, bits, int(hp["label_hidden"]), e, std)
        self.image_net = ModalityNet(
            ImageNet(shape.image, e, out_activation="relu", weights=hp["weights"]), e, bits, c, std
        )
        self.text_net = ModalityNet(
            TextNet(text_dim, e, hidden=text_hidden, out_activation="relu"), e, bits, c, std
        )
        self.d_image = Discriminator(e, init_std=std)
        self.d_text = Discriminator(e, init_std=std)
        self.to(self.device)
        # full-training-set buffers, built on the first fit_epoch call
        self.register_buffer("feat_label", torch.empty(0, e, device=self.device), persistent=False)
        self.register_buffer("code_label", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("code_image", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("code_text", torch.empty(0, bits, device=self.device), persistent=False)
        self.register_buffer("B", torch.empty(0, bits, device=self.device), persistent=False)

    # ------------------------------------------------------------------ helpers
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per block; with adversarial=code the modality optimisers also cover their D."""
        hp = self.hp
        code_mode = hp["adversarial"] == "code"
        d_image = list(self.d_image.parameters()) if code_mode else []
        d_text = list(self.d_text.parameters()) if code_mode else []
        return {
            "label": torch.optim.Adam(self.label_net.parameters(), lr=hp["lr_label"]),
            "image": torch.optim.Adam(list(self.image_net.parameters()) + d_image, lr=hp["lr_image"]),
            "text": torch.optim.Adam(list(self.text_net.parameters()) + d_text, lr=hp["lr_text"]),
            "dis": torch.optim.Adam([*self.d_image.parameters(), *self.d_text.parameters()], lr=hp["lr_dis"]),
        }

    def lr_schedule(self) -> Schedule:
        return Schedule("exponential", decay=float(self.hp["lr_decay"]))

    def _discriminator(self, modality: str) -> Discriminator:
        return self.d_image if modality == "image" else self.d_text

    @torch.no_grad()
    def _forward_all(self, net: torch.nn.Module, x: torch.Tensor, chunk: int = 1024) -> SSAHOutput:
        outs = [net(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
        return SSAHOutput(*(torch.cat([getattr(o, f) for o in outs]) for f in ("feature", "hash", "label")))

    def build_buffers(self, data: TrainData) -> None:
        """Fill the buffers with the current networks' outputs on the whole training set."""
        lab = self._forward_all(self.label_net, data.labels)
        self.feat_label, self.code_label = lab.feature.clone(), lab.hash.clone()
        self.code_image = self._forward_all(self.image_net, data.image).hash.clone()
        self.code_text = self._forward_all(self.text_net, data.text).hash.clone()
        self.B = torch.sign(self.code_label + self.code_image + self.code_text)

    def _quant_target(self, own_hash: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if self.hp["quant_target"] == "shared":
            return self.B[idx]
        return torch.sign(own_hash.detach())

    def _semantic_loss(
        self, out: SSAHOutput, labels_all: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """α·J(F) + γ·J(H) against LabNet's buffers + β·½‖B − H‖² + η·½‖L − L̂‖²."""
        hp = self.hp
        s = similarity_matrix(labels_all, labels[idx], hp["similarity"])
        return (
            hp["alpha"] * pairwise_loss(self.feat_label, out.feature, s, hp["pairwise"])
            + hp["gamma"] * pairwise_loss(self.code_label, out.hash, s, hp["pairwise"])
            + hp["beta"] * half_sq(self._quant_target(out.hash, idx), out.hash)
            + hp["eta"] * half_sq(labels[idx], out.label)
        )

    # ------------------------------------------------------------------ the three blocks
    def _label_step(self, data: TrainData, idx: torch.Tensor):
        out = self.label_net(data.labels[idx])
        self.feat_label[idx] = out.feature.detach()
        self.code_label[idx] = out.hash.detach()
        loss = self._semantic_loss(out, data.labels, data.labels, idx)
        return loss, {"loss_label": float(loss.detach()) / len(idx)}

    def _dis_step(self, data: TrainData, idx: torch.Tensor):
        form = self.hp["adversarial_form"]
        with torch.no_grad():
            f_label = self.label_net(data.labels[idx]).feature
            f_image = self.image_net(data.image[idx]).feature
            f_text = self.text_net(data.text[idx]).feature
        loss = discriminator_loss(self.d_image, self.d_text, f_label, f_image, f_text, form)
        # the accuracy is logged after the step (a callable is evaluated when logged)
        return loss, {
            "loss_dis": loss,
            "dis_acc": lambda: discriminator_accuracy(
                self.d_image, self.d_text, f_label, f_image, f_text, form
            ),
        }

    def _modality_loss(
        self, modality: str, data: TrainData, idx: torch.Tensor, out: SSAHOutput
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(total loss, adversarial term) of a modality network's batch."""
        hp = self.hp
        loss = self._semantic_loss(out, data.labels, data.labels_of(modality), idx)
        adv = torch.zeros((), device=loss.device)
        if hp["adversarial"] == "paper":
            with frozen(self._discriminator(modality)):
                adv = generator_loss(self._discriminator(modality), out.feature, hp["adversarial_form"])
        elif hp["adversarial"] == "code":
            adv = generator_loss(self._discriminator(modality), out.feature.detach(), hp["adversarial_form"])
        return loss + hp["delta"] * adv, adv

    def _modality_step(self, modality: str, data: TrainData, idx: torch.Tensor):
        out = self.net(modality)(getattr(data, modality)[idx])
        getattr(self, f"code_{modality}")[idx] = out.hash.detach()
        loss, adv = self._modality_loss(modality, data, idx, out)
        return loss, {f"loss_{modality}": float(loss.detach()) / len(idx), f"adv_{modality}": adv}

    # ------------------------------------------------------------------ the skeleton's hooks
    def log_names(self) -> tuple[str, ...]:
        return ("loss_label", "loss_dis", "dis_acc", "loss_image", "loss_text", "adv_image", "adv_text")

    def begin_epoch(self, data: TrainData, epoch: int, log: EpochLog) -> Any:
        if self.feat_label.shape[0] != len(data):
            self.build_buffers(data)

    def train_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """The official order: a LabNet pass, a discriminator pass, an ImgNet pass, a TxtNet pass."""
        n, bs = len(data), self.batch_size()
        self.run_pass(self.batches(n, bs), lambda idx: self._label_step(data, idx), log, ("label",))
        if self.hp["adversarial"] != "none":
            self.run_pass(self.batches(n, bs), lambda idx: self._dis_step(data, idx), log, ("dis",))
        for modality in ("image", "text"):
            self.run_pass(
                self.batches(n, bs),
                lambda idx, m=modality: self._modality_step(m, data, idx),
                log,
                (modality,),
            )

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        if self.hp["quant_target"] == "shared":
            self.B = torch.sign(self.code_label + self.code_image + self.code_text)
        means = log.means()
        log.set("loss", means["loss_image"] + means["loss_text"])

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.net(modality)(x).hash

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"adversarial": self.hp["adversarial"], "pairwise": self.hp["pairwise"]}


__all__ = ["SSAH", "LocalResponseNorm1d", "half_sq", "pairwise_loss", "similarity_matrix"]
