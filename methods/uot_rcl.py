"""``uot-rcl``: UOT-RCL-style hashing — partial-OT label correction + OT relation alignment.

Source: Han, Luo, Liu, Nan, "A Unified Optimal Transport Framework for Cross-Modal Retrieval with
Noisy Labels" (UOT-RCL), arXiv 2403.13480, IEEE TNNLS 36(9) 2025. Only the abstract is public
[P] (partial-OT *semantic alignment* correcting noisy labels with a *cross-modal consistent cost*;
OT-based *relation alignment*) and there is no code: every concrete choice is a reconstruction
**[R]** (docs/methods/uot-rcl.md: description, sources, measurements); borrowed values name their
source (MRL = penghu-cs/MRL @ e0f5c8f; CSOT = changwxx/CSOT-for-LNL; L2RM = hhc1997/L2RM).

* Model **[R]**: per modality an MLP ``d_in → hidden → hidden → K`` (MRL-style; raw images via
  ResNet-18) or ``networks=shared`` (CMMQ's fair-comparison nets, as ``mrl``'s), a K-unit tanh code
  head ``h``; the losses see ``z = h/‖h‖``; class prototypes give ``p(k|x) = softmax_k(zᵀc_k/τ)``.
* Warm-up (``warmup_epochs`` **[R]**): MRL's ``β·L_RC + (1−β)·L_MC`` on the noisy labels. Then each
  epoch starts with the **semantic alignment** **[R]** (:mod:`~xbench.methods.label_correction`):
  cost ``C = −log((1−α−κ)·½(p^v+p^t) + α·q + κ·ŷ + δ)`` **[R]**, entropic partial OT samples →
  classes moving mass ``m_e`` (CSOT's 0.3 → 1.0 ramp), momentum update of the transported
  samples' soft labels, whose argmax (top-``n_i``) is the corrected label **[R]**.
* Batch loss ``β·L_cls + (1−β)·(w_mc·L_MC + w_rel·L_rel)`` (+ ``quant_weight``·mean((|h|−1)²)):
  RC (or CE) against the corrected labels **[R]**, MRL's contrastive loss, and the **relation
  alignment** **[R]**: a per-batch image–text OT plan under ``(1 − cos) + λ_s(1 − ⟨ŷ_i, ŷ_j⟩)`` as
  soft targets of a symmetric contrastive loss (L2RM's construction, :mod:`~xbench.methods.transport`).
  Adam (MRL's betas), cosine annealing over the run. Per-modality labels: **[R]**.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .base import Hasher, Hyper, ProblemShape, TrainData
from .contrastive import multimodal_contrastive_loss, weighted_class_loss
from .epoch_log import EpochLog
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .label_correction import ZERO_STATS, CorrectedLabels, LabelCorrection
from .networks import BackboneMLP, ClassPrototypes, ImageNet, TextNet, resolve_backbone
from .schedules import Schedule
from .transport import (
    BACKEND_HYPERPARAMETERS,
    RELATION_HYPERPARAMETERS,
    SEMANTIC_HYPERPARAMETERS,
    check_semantic_hyperparameters,
    correction_schedule,
    mass_schedule,
    relation_loss,
    relation_options,
    relation_plan,
)

_R = " [R: reconstruction, docs/methods/uot-rcl.md]"


class UOTRCL(CorrectedLabels, Hasher):
    name = "uot-rcl"
    display_name, order, color, marker = "UOT-RCL", 80, "#fbafe4", "*"
    paper = (
        "Han, Luo, Liu, Nan, 'A Unified Optimal Transport Framework for Cross-Modal Retrieval with "
        "Noisy Labels', arXiv 2403.13480 / TNNLS 2025 (UOT-RCL-style reconstruction)"
    )
    description = (
        "UOT-RCL-style: partial-OT label correction (cross-modal consistent cost) + OT relation "
        "alignment on MRL-style nets with a tanh code head"
    )
    default_epochs = 50
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "networks": Hyper(
            "mlp",
            "MRL-style MLPs" + _R + "; features mode: CMMQ §4.2 fair-comparison nets, as mrl's (measured: "
            "docs/performance.md#training-budgets)",
            "mlp (d→hidden→hidden→K) or shared (FC(K) on image features / ResNet-18, text MLP ⌈(T+K)/2⌉ wide)",
            features_default="shared",
            choices=("mlp", "shared"),
        ),
        "hidden": Hyper(
            4096, "penghu-cs/MRL @ e0f5c8f nets/*.py [C]", "width of the hidden layers (networks=mlp)"
        ),
        "lr": Hyper(
            0.0,
            "MRL 1e-4 [C]/[P]; mrl's features-mode 1e-3 for the shared nets",
            "Adam rate; 0 = auto: 1e-3 for networks=shared on image features (as mrl), else 1e-4",
        ),
        "batch_size": Hyper(100, "MRL [C] default (paper: 50 on Wikipedia)", "mini-batch size", minimum=2),
        "beta": Hyper(0.5, "MRL Eq. 8 β [P]/[C]", "weight of the class loss; 1−β weighs the alignment loss"),
        "tau": Hyper(1.0, "MRL τ₁ = τ₂ = 1 [C]", "temperature of the prototype logits and of the MC loss"),
        "warmup_epochs": Hyper(
            -1,
            "5–10 of 50 epochs" + _R,
            "epochs of MRL's objective first; -1 = auto: 20 % of the run's budget",
            minimum=-1,
        ),
        **SEMANTIC_HYPERPARAMETERS,
        "class_loss": Hyper(
            "rc",
            "MRL RC loss [P]; CSOT/L2RM use cross-entropy" + _R,
            "loss against the corrected labels: rc (MRL's robust clustering) or ce",
            choices=("rc", "ce"),
        ),
        "unselected_weight": Hyper(
            1.0, "xbench" + _R, "class-loss weight of samples not transported this epoch"
        ),
        "mc_weight": Hyper(
            1.0,
            "MRL L_c; xbench" + _R,
            "weight of MRL's contrastive loss after warm-up (all of L_align before)",
        ),
        "relation_weight": Hyper(
            0.5,
            "λ_rel" + _R,
            "weight of the OT relation loss in L_align after warm-up (0 = off: an ablation)",
        ),
        **RELATION_HYPERPARAMETERS,
        **BACKEND_HYPERPARAMETERS,
        "quant_weight": Hyper(0.0, "xbench" + _R, "weight of the quantisation term mean((|h|−1)²) (0 = off)"),
        "cosine_epochs": Hyper(
            0,
            "MRL [C] cosine annealing",
            "length of the cosine schedule (0 = the run's budget, else default_epochs)",
        ),
        "weights": Hyper(
            "imagenet", "torchvision", "ResNet-18 weights for raw images: imagenet, none or a path"
        ),
        "input_norm": Hyper(
            "standardize-features",
            "xbench, as mrl's (features of another scale cost 0.035 mAP, docs/health.md); MRL's code "
            "feeds the features as given (input_norm=none)",
            INPUT_NORM_HELP,
            choices=INPUT_NORMS,
        ),
    }

    def __init__(self, shape: ProblemShape, bits: int, **kwargs: Any):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        check_semantic_hyperparameters(self.name, hp)
        self.image_net: nn.Module
        self.text_net: nn.Module
        if hp["networks"] == "mlp":
            image, text, width = shape.image, shape.text, hp["hidden"]
            self.image_net = BackboneMLP(
                image.kind, image.dim, width, bits, hp["weights"], resolve_backbone(image)
            )
            self.text_net = BackboneMLP(text.kind, text.dim, width, bits, hp["weights"])
        else:  # the CMMQ fair-comparison networks, as mrl's networks=shared (pre-tanh outputs here)
            text_dim = int(shape.text.dim if isinstance(shape.text.dim, int) else math.prod(shape.text.dim))
            self.image_net = ImageNet(shape.image, bits, out_activation="linear", weights=hp["weights"])
            self.text_net = TextNet(
                text_dim, bits, hidden=math.ceil((text_dim + bits) / 2), out_activation="linear"
            )
        g = torch.Generator().manual_seed(self.seed + 104729)
        self.prototypes = ClassPrototypes(bits, shape.num_classes, generator=g)
        self.to(self.device)
        auto = 1e-3 if hp["networks"] == "shared" and not shape.image_is_raw else 1e-4
        self.base_lr = float(hp["lr"]) or auto
        self.correction: LabelCorrection | None = None  # created on the first fit_epoch
        self.label_history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ outputs
    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """The tanh code head ``h`` (N×K) of the scaled input (``input_norm``); ``encode`` gives sign(h)."""
        return torch.tanh(self.net(modality)(self.scaled(modality, x.to(self.device))))

    @torch.no_grad()
    def embed(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """The real-valued embedding ``z = h/‖h‖`` (N×K) the losses and prototypes live in."""
        return F.normalize(self.continuous(modality, x), dim=1)

    def _semantic_step(self, data: TrainData, mass: float) -> dict[str, float]:
        chunk = 256 if self.shape.image_is_raw else 4096
        z = {m: self.outputs_all(m, getattr(data, m), chunk, fn=self.embed) for m in ("image", "text")}
        protos = self.prototypes.normalised().detach()
        p = {m: (z[m] @ protos / self.hp["cost_temperature"]).softmax(1).double().cpu().numpy() for m in z}
        return self.correction.update(z, p, mass, self.hp)

    # ------------------------------------------------------------------ the skeleton's hooks
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": torch.optim.Adam(self.parameters(), lr=self.base_lr, betas=(0.5, 0.999))}

    def lr_schedule(self) -> Schedule:
        """MRL's cosine annealing over ``cosine_epochs`` or the run's budget."""
        return Schedule("cosine", epochs=int(self.hp["cosine_epochs"]))

    def min_batch_size(self) -> int:
        return 2

    def prepare(self, data: TrainData) -> None:
        prior = "uniform" if self.hp["class_prior"] == "uniform" else "labels"
        self.correction = LabelCorrection(
            data, self.shape.num_classes, f"{self.name}: dataset '{self.shape.dataset}'", prior
        )

    def log_names(self) -> tuple[str, ...]:
        return ("loss", "loss_class", "loss_align", "loss_mc", "loss_relation", "loss_quant")

    def begin_epoch(self, data: TrainData, epoch: int, log: EpochLog) -> Any:
        """Semantic alignment after warm-up; the epoch's labels and class-loss weights."""
        hp = self.hp
        warmup, ramp = self.schedule = correction_schedule(
            hp["warmup_epochs"], hp["ramp_epochs"], self.epoch_budget(data)
        )
        warm = epoch < warmup
        self._aligned = not warm
        if warm:
            stats = dict(ZERO_STATS)
        else:
            stats = self._semantic_step(
                data, mass_schedule(epoch, warmup, ramp, hp["mass_start"], hp["mass_end"])
            )
        log.update(stats)
        weight = torch.ones(len(data), device=self.device)
        if not warm and hp["unselected_weight"] != 1.0:
            unselected = torch.as_tensor(~self.correction.selected, device=self.device)
            weight[unselected] = float(hp["unselected_weight"])
        return warm, self.correction.tensors(self.device), weight, stats

    def batch_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> dict[str, torch.Tensor]:
        """β·L_cls + (1−β)·(w_mc·L_MC + w_rel·L_rel) (+ quantization); MRL's objective in warm-up."""
        hp = self.hp
        warm, labels, weight, _ = context
        h_image = self.continuous("image", data.image[idx])
        h_text = self.continuous("text", data.text[idx])
        z_image, z_text = F.normalize(h_image, dim=1), F.normalize(h_text, dim=1)
        y_image, y_text = labels["image"][idx], labels["text"][idx]
        w = weight[idx]
        kind = hp["class_loss"]
        loss_class = weighted_class_loss(
            self.prototypes.logits(z_image, hp["tau"]), y_image, w, kind
        ) + weighted_class_loss(self.prototypes.logits(z_text, hp["tau"]), y_text, w, kind)
        loss_mc = loss_rel = torch.zeros((), device=self.device)
        if warm or hp["mc_weight"] > 0:
            loss_mc = multimodal_contrastive_loss(z_image, z_text, tau=hp["tau"], reduction="sum_modalities")
        if not warm and hp["relation_weight"] > 0:
            plan = relation_plan(z_image, z_text, y_image, y_text, **relation_options(hp))
            loss_rel = relation_loss(z_image, z_text, plan, tau=hp["relation_tau"])
        loss_align = loss_mc if warm else hp["mc_weight"] * loss_mc + hp["relation_weight"] * loss_rel
        loss = hp["beta"] * loss_class + (1.0 - hp["beta"]) * loss_align
        loss_quant = torch.zeros((), device=self.device)
        if hp["quant_weight"] > 0:
            loss_quant = 0.5 * ((h_image.abs() - 1).pow(2).mean() + (h_text.abs() - 1).pow(2).mean())
            loss = loss + hp["quant_weight"] * loss_quant
        terms = (loss, loss_class, loss_align, loss_mc, loss_rel, loss_quant)
        return dict(zip(self.log_names(), terms, strict=True))

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        stats = context[3]
        self.label_history.append({"epoch": epoch + 1, **{k: stats[k] for k in sorted(stats)}})

    def extra_state_for_store(self) -> dict[str, Any]:
        return {
            "label_correction": self.label_history,
            "multi_label_mode": "per-sample mass = label count; top-n_i relabelling",
            "per_modality_labels": self.correction is not None and "text" in self.correction.labels,
            "warmup_ramp_epochs": list(getattr(self, "schedule", ())),
        }
