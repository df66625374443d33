"""``mrl``: Multimodal Robust Learning (Hu, Peng, Zhu, Zhen, Lin, CVPR 2021) as a hashing method.

Sources: the MRL release README and official code penghu-cs/MRL @ e0f5c8f (``main_noisy.py``
L83-100 centres and optimiser, L130-164 the losses and the training step; ``src/utils.py``
``MeanClusteringError``; ``utils/config.py`` defaults).

MRL is a real-valued method; xbench runs it as a hashing method (issue 7):

* networks: the CMMQ fair-comparison networks with K-unit tanh outputs (``networks="shared"``:
  :class:`~xbench.methods.networks.ImageNet`, :class:`~xbench.methods.networks.TextNet`), or
  MRL's own ``d → 4096 → 4096 → K`` MLPs (``networks="mrl"``, ``nets/ImageNet.py``,
  ``nets/TextNet.py``; after ResNet-18 for raw images), here with a tanh output;
* z = L2-normalised output; learnable class centres C (K × classes, first columns of a
  random orthogonal matrix), renormalised to unit columns *before every step* and used as
  they are in the forward pass, exactly as the official ``C.data = C / ‖C‖`` (so the update
  itself is the raw gradient step, not one through the normalisation);
* robust clustering loss L_r = Σ_modalities mean_j log(1 − p(ỹ_j|x_j)), p = softmax(zᵀC/τ₁)
  (paper Eq. 5; official ``losses = [criterion(preds[v], targets[v])]``, summed over views);
  each modality uses its own noisy labels (they differ only with ``--noise-per-modality``,
  MRL's setting); multi-hot labels use the positive mass Σ_{k∈ỹ} p_k [R];
* multimodal contrastive loss L_c between the two modalities at τ₂, self-similarity
  excluded (official code; ``self_similarity="included"`` gives the paper's Eq. 6), scaled
  as Σ over modalities of the per-pair mean (paper Eq. 7; official ``loss1 + loss2``);
* L = β·L_r + (1 − β)·L_c (Eq. 8); Adam(β₁ 0.5, β₂ 0.999), lr 1e-4, weight decay 0, cosine
  annealing over the run (official ``--ls cos``; the release steps it with an off-by-one
  that xbench does not copy); batch 100 (official default; the paper uses 50 on Wikipedia).
  With precomputed image features the learning rate defaults to 1e-3: the shared image
  network is then a single FC layer, which barely moves at 1e-4 in 100 epochs (synthetic,
  64 bits: mAP 0.669/0.643 at 1e-4 vs 0.725/0.703 at 1e-3; Wikipedia at symmetric 0.6:
  0.160/0.137 vs 0.245/0.231, the same as MRL's own 4096-4096 MLPs at the release's 1e-4,
  0.243/0.218).

There is no quantization term (MRL has none): codes are sign(tanh output). The continuous
tanh outputs are exposed by :meth:`MRL.continuous`; MRL's own evaluation ranks the
database by cosine similarity of these outputs (penghu-cs/MRL @ e0f5c8f main_noisy.py L265-342):
``F.normalize(m.continuous("image", xq)) @ F.normalize(m.continuous("text", xdb)).T``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .base import Hasher, Hyper, TrainData
from .contrastive import multimodal_contrastive_loss, robust_clustering_loss
from .epoch_log import EpochLog
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .networks import MLP, ClassPrototypes, ImageNet, TextNet
from .schedules import Schedule

CODE = "penghu-cs/MRL @ e0f5c8f"


def mrl_loss(
    z_image: torch.Tensor,
    z_text: torch.Tensor,
    centres: torch.Tensor,
    labels_image: torch.Tensor,
    labels_text: torch.Tensor,
    beta: float = 0.5,
    tau_rc: float = 1.0,
    tau_mc: float = 1.0,
    include_self: bool = False,
    reduction: str = "mean",
) -> dict[str, torch.Tensor]:
    """MRL's total loss β·L_r + (1 − β)·L_c and its parts for one batch.

    ``z_*`` are the raw network outputs (normalised here), ``centres`` the K × C class
    centres used as given (the caller keeps their columns at unit norm). With
    ``reduction="none"`` every entry is per sample (N,): L_r of the two modalities and the
    pair's contrastive loss at the ``sum_modalities`` scale.
    """
    zi, zt = F.normalize(z_image, dim=1), F.normalize(z_text, dim=1)
    rc_image = robust_clustering_loss(zi @ centres / tau_rc, labels_image, reduction=reduction)
    rc_text = robust_clustering_loss(zt @ centres / tau_rc, labels_text, reduction=reduction)
    if reduction == "none":
        mc = 2.0 * multimodal_contrastive_loss(zi, zt, tau_mc, reduction="none", include_self=include_self)
    else:
        mc = multimodal_contrastive_loss(
            zi, zt, tau_mc, reduction="sum_modalities", include_self=include_self
        )
    rc = rc_image + rc_text
    return {
        "loss": beta * rc + (1.0 - beta) * mc,
        "rc": rc,
        "rc_image": rc_image,
        "rc_text": rc_text,
        "mc": mc,
    }


class MRL(Hasher):
    name = "mrl"
    display_name, order, color, marker = "MRL", 70, "#ca9161", "P"
    paper = "Hu, Peng, Zhu, Zhen, Lin: Learning Cross-modal Retrieval with Noisy Labels, CVPR 2021"
    description = (
        "robust clustering (learnable class centres) + multimodal contrastive loss; sign of tanh outputs"
    )
    default_epochs = 100
    has_sample_losses = True
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        "beta": Hyper(
            0.5,
            f"{CODE} utils/config.py --beta; paper Eq. 8 (stable in 0.5-0.8 on Wikipedia)",
            "weight β of L_r (L_c gets 1 − β)",
        ),
        "tau_rc": Hyper(
            1.0, f"{CODE} utils/config.py --tau (τ₁, paper Eq. 2)", "temperature of the RC softmax"
        ),
        "tau_mc": Hyper(1.0, f"{CODE} utils/config.py --tau (τ₂, paper Eq. 6)", "temperature of the MC loss"),
        "self_similarity": Hyper(
            "excluded",
            f"{CODE} main_noisy.py L134 (sim − diag); paper Eqs. 6-7 include it",
            "excluded (official code) or included (paper)",
            choices=("excluded", "included"),
        ),
        "lr": Hyper(
            1e-4,
            f"{CODE} utils/config.py --lr; paper §4.1",
            "Adam learning rate; features mode: 1e-3 (the shared networks are one FC layer on image "
            "features; validated on synthetic and wikipedia, see the README; with networks=mrl the "
            "release's 1e-4 gives the same mAP)",
            features_default=1e-3,
        ),
        "adam_beta1": Hyper(0.5, f"{CODE} main_noisy.py L95 (betas=[0.5, 0.999])", "Adam β₁"),
        "adam_beta2": Hyper(0.999, f"{CODE} main_noisy.py L95", "Adam β₂"),
        "weight_decay": Hyper(0.0, f"{CODE} utils/config.py --wd", "Adam weight decay"),
        "batch_size": Hyper(
            100, f"{CODE} utils/config.py --train_batch_size (paper: 50 on Wikipedia)", "mini-batch size"
        ),
        "lr_schedule": Hyper(
            "cosine",
            f"{CODE} utils/config.py --ls cos",
            "cosine (annealed to 0) or constant",
            choices=("cosine", "constant"),
        ),
        "schedule_epochs": Hyper(
            0,
            "xbench",
            "length of the cosine schedule; 0 = the run's epoch count when the "
            "runner passes it (TrainData.epochs), else default_epochs",
        ),
        "networks": Hyper(
            "shared",
            "CMMQ paper §4.2 fair comparison; 'mrl' = official nets/ImageNet.py, TextNet.py",
            "shared (cmmq's image/text networks) or mrl (d→4096→4096→K MLPs)",
            choices=("shared", "mrl"),
        ),
        "mlp_hidden": Hyper(4096, f"{CODE} nets/ImageNet.py mid_num", "hidden width of networks=mrl"),
        "text_hidden": Hyper(
            0,
            "CMMQ release heuristic ⌈(T+K)/2⌉ (CMMQ release @ 2b17232), as for cmmq",
            "hidden width of the shared text MLP; 0 = ⌈(T+K)/2⌉",
        ),
        "weights": Hyper(
            "imagenet",
            "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
            "ResNet-18 weights for raw images: imagenet, none or a checkpoint path",
        ),
        "input_norm": Hyper(
            "standardize-features",
            "xbench (features mode: features of another scale cost 0.035 mAP, docs/health.md); "
            f"{CODE} src/noisydataset.py feeds the features as given (input_norm=none)",
            INPUT_NORM_HELP,
            choices=INPUT_NORMS,
        ),
    }

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        text_dim = int(shape.text.dim if isinstance(shape.text.dim, int) else math.prod(shape.text.dim))
        if hp["networks"] == "shared":
            self.image_net: nn.Module = ImageNet(
                shape.image, bits, out_activation="tanh", weights=hp["weights"]
            )
            hidden = int(hp["text_hidden"]) or math.ceil((text_dim + bits) / 2)
            self.text_net: nn.Module = TextNet(text_dim, bits, hidden=hidden, out_activation="tanh")
        else:
            h = int(hp["mlp_hidden"])
            self.image_net = nn.Sequential(
                ImageNet(shape.image, h, out_activation="relu", weights=hp["weights"]),
                MLP([h, h, bits], out_activation="tanh"),
            )
            self.text_net = MLP([text_dim, h, h, bits], out_activation="tanh")
        self.prototypes = ClassPrototypes(
            bits, shape.num_classes, generator=torch.Generator().manual_seed(self.seed + 104729)
        )
        self.to(self.device)

    # ------------------------------------------------------------------ the skeleton's hooks
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        hp = self.hp
        betas = (hp["adam_beta1"], hp["adam_beta2"])
        return {
            "main": torch.optim.Adam(
                self.parameters(), lr=hp["lr"], betas=betas, weight_decay=hp["weight_decay"]
            )
        }

    def lr_schedule(self) -> Schedule:
        """Cosine annealing to 0 over ``schedule_epochs`` or the run's budget (official ``--ls cos``)."""
        if self.hp["lr_schedule"] == "constant":
            return Schedule()
        return Schedule("cosine", epochs=int(self.hp["schedule_epochs"]))

    @property
    def sample_chunk(self) -> int:  # type: ignore[override]
        return int(self.hp["batch_size"])  # the contrastive part depends on the batch a sample shares

    @torch.no_grad()
    def _renormalise_centres(self) -> None:
        self.prototypes.centres.copy_(self.prototypes.normalised())

    def _loss(self, data: TrainData, idx: torch.Tensor, reduction: str = "mean") -> dict[str, torch.Tensor]:
        hp = self.hp
        return mrl_loss(
            self.continuous("image", data.image[idx]),
            self.continuous("text", data.text[idx]),
            self.prototypes.centres,
            data.labels_of("image")[idx],
            data.labels_of("text")[idx],
            beta=hp["beta"],
            tau_rc=hp["tau_rc"],
            tau_mc=hp["tau_mc"],
            include_self=hp["self_similarity"] == "included",
            reduction=reduction,
        )

    def batch_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> dict[str, torch.Tensor]:
        """β·L_r + (1 − β)·L_c of the batch, centres renormalised before the step (official code)."""
        self._renormalise_centres()
        parts = self._loss(data, idx)
        return {"loss": parts["loss"], "rc": parts["rc"], "mc": parts["mc"]}

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        self._renormalise_centres()

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """The K-unit tanh outputs of the scaled input (``input_norm``); rank by cosine of these for
        MRL's real-valued retrieval."""
        return self.net(modality)(self.scaled(modality, x))

    def per_sample_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> torch.Tensor:
        """β·(L_r^image + L_r^text) + (1 − β)·L_c per sample; consecutive batches of ``batch_size``."""
        return self._loss(data, idx, reduction="none")["loss"]

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"networks": self.hp["networks"], "self_similarity": self.hp["self_similarity"]}
