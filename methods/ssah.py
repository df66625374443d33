"""``ssah``: Self-Supervised Adversarial Hashing (Li, Deng, Li, Liu, Gao, Tao, CVPR 2018).

Official code: lelan-li/SSAH @ 8780b20 (``SSAH.py`` L96-130 losses, L290-420 the per-block passes;
``tnet.py``; ``setting.py`` L53-76). Details, deviations and measurements: ``docs/methods/ssah.md``.

LabNet (labels → 4096 → 512-d semantic feature → tanh hash head and sigmoid label head) guides
ImgNet / TxtNet (the CMMQ paper's shared networks, §4.2, with the same heads [R]); two
discriminators (:mod:`xbench.methods.adversarial`) call label features "real" and modality
features "fake". Per mini-batch b of modality * against LabNet's full-training-set buffers:

    L^* = α·J(½F^l F^*_bᵀ, S) + γ·J(½H^l H^*_bᵀ, S) + β·½‖B_b − H^*_b‖² + η·½‖L_b − L̂^*_b‖² + δ·L_adv^*

(LabNet: the first four terms against its own buffers). One pass per block per epoch in the
official order LabNet, D, ImgNet, TxtNet (:meth:`SSAH.train_epoch`); codes: sign of the hash output.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from .adversarial import ADVERSARIAL_FORMS, Discriminator, discriminator_step, frozen, generator_loss
from .base import Hasher, Hyper, TrainData
from .epoch_log import EpochLog
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .networks import ImageNet, TextNet
from .pairwise import PAIRWISE_FORMS, half_sq, pairwise_loss, similarity_matrix, text_input_dim
from .schedules import Schedule
from .semantic_networks import LabelNet, ModalityNet, SSAHOutput, forward_chunks

CODE = "lelan-li/SSAH @ 8780b20"


class SSAH(Hasher):
    name = "ssah"
    display_name, order, color, marker = "SSAH", 50, "#d55e00", "v"
    paper = "Li, Deng, Li, Liu, Gao, Tao: Self-Supervised Adversarial Hashing Networks for Cross-Modal Retrieval, CVPR 2018"
    description = "label network guides image/text nets (pairwise likelihood on features and codes) + modality discriminators"
    default_epochs = 30
    health_note = "its codes copy LabNet's few label-set codes: the published objective (docs/health.md)"
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
            1.0, "paper S ∈ {0,1}; official setting.py L53: 0.999", "value of S_ij for pairs sharing a label"
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
            0, "CMMQ release @ 2b17232 heuristic, as cmmq", "text MLP hidden width; 0 = ⌈(T+K)/2⌉"
        ),
        "init_std": Hyper(
            0.01,
            f"{CODE} tnet.py (all weights and biases 0.01·N(0,1))",
            "std of LabNet, heads and discriminator initial weights and biases; 0 = PyTorch's default",
        ),
        "input_norm": Hyper("standardize", "xbench; docs/health.md", INPUT_NORM_HELP, choices=INPUT_NORMS),
        "batch_size": Hyper(128, f"{CODE} setting.py batch_size", "mini-batch size"),
        "lr_label": Hyper(
            1e-3,
            f"xbench (official 1e-2, {CODE} setting.py L73, collapses LabNet on single-label data; "
            "docs/methods/ssah.md)",
            "LabNet Adam learning rate",
        ),
        "lr_image": Hyper(
            10**-4.5,
            f"{CODE} setting.py L74 (0.1^4.5, fine-tuning VGG-F end to end)",
            "ImgNet Adam learning rate; features mode: 1e-3 (FC layers trained from scratch; docs/methods/ssah.md)",
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
        text_dim = text_input_dim(shape)
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
        for name in ("feat_label", "code_label", "code_image", "code_text", "B"):
            width = e if name == "feat_label" else bits
            self.register_buffer(name, torch.empty(0, width, device=self.device), persistent=False)

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per block; with adversarial=code the modality optimisers also cover their D."""
        hp, code_mode = self.hp, self.hp["adversarial"] == "code"
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

    def build_buffers(self, data: TrainData) -> None:
        """Fill the buffers with the current networks' outputs on the whole training set."""
        lab = forward_chunks(self.label_net, data.labels)
        self.feat_label, self.code_label = lab.feature.clone(), lab.hash.clone()
        self.code_image = forward_chunks(self.image_net, self.scaled("image", data.image)).hash.clone()
        self.code_text = forward_chunks(self.text_net, self.scaled("text", data.text)).hash.clone()
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
        with torch.no_grad():
            f_label = self.label_net(data.labels[idx]).feature
            f_image = self.image_net(self.scaled("image", data.image[idx])).feature
            f_text = self.text_net(self.scaled("text", data.text[idx])).feature
        return discriminator_step(
            self.d_image, self.d_text, f_label, f_image, f_text, self.hp["adversarial_form"]
        )

    def _modality_loss(
        self, modality: str, data: TrainData, idx: torch.Tensor, out: SSAHOutput
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(total loss, adversarial term) of a modality network's batch."""
        hp = self.hp
        loss = self._semantic_loss(out, data.labels, data.labels_of(modality), idx)
        adv, d = torch.zeros((), device=loss.device), getattr(self, f"d_{modality}")
        if hp["adversarial"] == "paper":
            with frozen(d):
                adv = generator_loss(d, out.feature, hp["adversarial_form"])
        elif hp["adversarial"] == "code":
            adv = generator_loss(d, out.feature.detach(), hp["adversarial_form"])
        return loss + hp["delta"] * adv, adv

    def _modality_step(self, modality: str, data: TrainData, idx: torch.Tensor):
        out = self.net(modality)(self.scaled(modality, getattr(data, modality)[idx]))
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
        for m in ("image", "text"):
            self.run_pass(self.batches(n, bs), lambda idx, m=m: self._modality_step(m, data, idx), log, (m,))

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        if self.hp["quant_target"] == "shared":
            self.B = torch.sign(self.code_label + self.code_image + self.code_text)
        means = log.means()
        log.set("loss", means["loss_image"] + means["loss_text"])

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.net(modality)(self.scaled(modality, x)).hash

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"adversarial": self.hp["adversarial"], "pairwise": self.hp["pairwise"]}


__all__ = ["SSAH"]
