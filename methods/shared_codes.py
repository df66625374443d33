"""The DCMH training procedure with shared codes B, used by ``dcmh`` and ``prdh``.

Per-modality output buffers F, G (n×K, row layout) are built on the first ``fit_epoch``
call; within an epoch the image network runs ⌈n/bs⌉ batches with G and B fixed, then the
text network with F and B fixed, each batch's loss computed between the batch and **all n**
training items through the other modality's (stale) buffer; then B = sign(F + G) (DCMH,
Jiang & Li, CVPR 2017, Alg. 1; official ``process_DCMH.m``). Subclasses supply the
per-batch loss (:meth:`SharedCodeHasher.batch_terms`) and the full objective
(:meth:`SharedCodeHasher.objective_terms`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import torch

from .base import Hasher, Hyper, TrainData
from .epoch_log import EpochLog
from .inputs import INPUT_NORM_HELP, INPUT_NORMS
from .networks import ImageNet, TextNet
from .pairwise import pairwise_nll, similarity, text_input_dim, theta
from .schedules import Schedule

SKELETON_HYPERPARAMETERS: dict[str, Hyper] = {
    "gamma": Hyper(1.0, "DCMH code DCMH_demo.m L22", "weight γ of the quantization term ‖B−F‖²+‖B−G‖²"),
    "eta": Hyper(1.0, "DCMH code DCMH_demo.m L23", "weight η of the bit-balance term ‖F·1‖²+‖G·1‖²"),
    "batch_size": Hyper(128, "DCMH code DCMH_demo.m L24", "mini-batch size"),
    "lr_image": Hyper(
        10**-1.5,
        "DCMH code DCMH_demo.m L19-21 (lr_img = logspace(-1.5, -3))",
        "initial SGD learning rate of the image network",
    ),
    "lr_text": Hyper(
        10**-1.5,
        "DCMH code DCMH_demo.m L19-21 (lr_txt = logspace(-1.5, -3))",
        "initial SGD learning rate of the text network",
    ),
    "lr_end_factor": Hyper(
        10**-1.5,
        "DCMH code DCMH_demo.m L19-21 (10^-3 / 10^-1.5)",
        "final / initial learning rate of the schedule",
    ),
    "lr_schedule": Hyper(
        "log",
        "DCMH MATLAB code (logspace); TF code uses linspace to 1e-6",
        "log, linear or constant",
        choices=("log", "linear", "constant"),
    ),
    "schedule_epochs": Hyper(
        0,
        "xbench",
        "length of the lr schedule in epochs; 0 = the run's epoch count when the "
        "runner passes it (TrainData.epochs), else the method's default_epochs",
    ),
    "objective_every": Hyper(
        10,
        "xbench (logging only; DCMH's code prints calc_loss every epoch)",
        "log the full objective J over all n² pairs after epoch 1, every N-th epoch and the last one; "
        "1 = every epoch; 0 = epoch 1 and the last only (J costs as much as a pass of batches)",
    ),
    "weight_decay": Hyper(5e-4, "DCMH code update_net.m L2 (weights and biases)", "SGD weight decay"),
    "momentum": Hyper(0.0, "DCMH code update_net.m (plain SGD)", "SGD momentum"),
    "init_std": Hyper(
        0.01,
        "DCMH code net_structure_img.m L11-17 (fc8 ~ 0.01·N(0,1))",
        "std of the image hash layer's initial weights (bias 0); the shared text net keeps PyTorch's "
        "default init (a 3-layer MLP at 0.01 would start with vanishing outputs)",
    ),
    "buffer_init": Hyper(
        "zeros",
        "DCMH MATLAB code process_DCMH.m (F = G = 0, so B = 0 in epoch 1); TF: normal",
        "initial F, G buffers: zeros or normal (N(0,1), TF DCMH_demo.py)",
        choices=("zeros", "normal"),
    ),
    "sampling": Hyper(
        "draw",
        "DCMH paper Alg. 1 and both official codes (randperm(n)(1:bs) per iteration)",
        "draw: ⌈n/bs⌉ independent random batches per pass; epoch: one shuffled partition",
        choices=("draw", "epoch"),
    ),
    "first": Hyper(
        "image",
        "DCMH paper Alg. 1 and TF code (image first); the MATLAB release updates text first",
        "which network is updated first in each epoch",
        choices=("image", "text"),
    ),
    "input_norm": Hyper(
        "auto",
        "DCMH code DCMH_demo.m L27 (normZeroMean on the BoW); xbench for features",
        INPUT_NORM_HELP,
        choices=INPUT_NORMS,
    ),
    "backbone_weights": Hyper(
        "imagenet",
        "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
        "raw images only: ResNet-18 weights — imagenet, none or a checkpoint path",
    ),
}


#: training sets up to this size keep their n×n label similarity (n² bytes) instead of recomputing rows
SIMILARITY_CACHE_ITEMS = 20_000


class SharedCodeHasher(Hasher):
    """DCMH's training procedure with shared codes B; subclasses define the batch loss.

    Subclass contract: :meth:`batch_terms` returns the loss of one batch to minimise and its
    named, weighted contributions (they sum to the loss; logged as epoch means per
    modality, ``loss_image``/``loss_text``, their mean ``batch_loss``);
    :meth:`objective_terms` returns the full objective on the buffers after the B-step
    (key ``objective``, also logged as ``loss``: the per-batch surrogates are not comparable
    across epochs because the balance term is a global sum, but J is). J sums over all n²
    pairs — as much work as a pass of batches — so it is logged on the epochs
    :meth:`objective_due` names (``objective_every``); training never reads it, so the
    codes do not depend on that choice (tested).
    """

    default_epochs: ClassVar[int] = 500
    has_sample_losses: ClassVar[bool] = True

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        if int(hp["batch_size"]) < 1:
            raise ValueError(f"{self.name}.batch_size: expected a positive integer, got {hp['batch_size']}")
        if int(hp["objective_every"]) < 0:
            raise ValueError(
                f"{self.name}.objective_every: expected an integer ≥ 0, got {hp['objective_every']}"
            )
        for key in ("lr_image", "lr_text", "lr_end_factor"):
            if not float(hp[key]) > 0:
                raise ValueError(f"{self.name}.{key}: expected a positive number, got {hp[key]}")
        self.image_net = ImageNet(
            shape.image,
            bits,
            out_activation="linear",
            weights=hp["backbone_weights"],
            head_init_std=float(hp["init_std"]) if hp["init_std"] else None,
        )
        self.text_net = TextNet(text_input_dim(shape), bits, out_activation="linear")
        self.register_buffer("F", None)
        self.register_buffer("G", None)
        self.register_buffer("B", None)

    # ------------------------------------------------------------------ pieces
    def buffer(self, modality: str) -> torch.Tensor:
        return self.F if modality == "image" else self.G

    @staticmethod
    def other(modality: str) -> str:
        return "text" if modality == "image" else "image"

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        hp = self.hp
        return {
            m: torch.optim.SGD(
                self.net(m).parameters(),
                lr=float(hp[f"lr_{m}"]),
                momentum=float(hp["momentum"]),
                weight_decay=float(hp["weight_decay"]),
            )
            for m in ("image", "text")
        }

    def lr_schedule(self) -> Schedule:
        """``DCMH_demo.m`` logspace (or linear / constant) over ``schedule_epochs`` or the run's budget."""
        return Schedule(
            self.hp["lr_schedule"],
            end_factor=float(self.hp["lr_end_factor"]),
            epochs=int(self.hp["schedule_epochs"]),
        )

    def build_buffers(self, data: TrainData) -> None:
        """F, G (n×K) and B = sign(F + G), on the data's device (first ``fit_epoch`` call)."""
        n, k = len(data), self.bits
        device = data.labels.device
        if self.hp["buffer_init"] == "normal":
            g = torch.Generator().manual_seed(self.seed + 104729)
            self.F = torch.randn(n, k, generator=g).to(device)
            self.G = torch.randn(n, k, generator=g).to(device)
        else:
            self.F = torch.zeros(n, k, device=device)
            self.G = torch.zeros(n, k, device=device)
        self.B = torch.sign(self.F + self.G)

    def update_codes(self) -> None:
        """B = sign(γ(F + G)) = sign(F + G) (γ > 0); an exact 0 stays 0 (MATLAB ``e_sign``)."""
        self.B = torch.sign(self.F + self.G)

    def pass_batches(self, n: int) -> Iterator[torch.Tensor]:
        bs = int(self.hp["batch_size"])
        if self.hp["sampling"] == "epoch":
            yield from self.batches(n, bs)
            return
        for _ in range(math.ceil(n / bs)):
            yield torch.randperm(n, generator=self.generator)[:bs].to(self.device)

    # ------------------------------------------------------------------ subclass hooks
    def batch_terms(
        self, modality: str, u: torch.Tensor, idx: torch.Tensor, data: TrainData
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def objective_terms(self, data: TrainData) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ shared helpers for the hooks
    def column_sum_with(self, modality: str, u: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Σ_i over all n rows of the modality's buffer, with the batch rows taken live from ``u``.

        The buffer rows ``idx`` already hold ``u.detach()``, so the sum's value is the
        buffer's column sum and its gradient w.r.t. each batch row is 2·(F·1) in ‖F·1‖²,
        the gradient DCMH's code uses (process_DCMH.m ``2*eta*repmat(F1, 1, bs)``).
        """
        return self.buffer(modality).sum(dim=0) - u.detach().sum(dim=0) + u.sum(dim=0)

    def similarity_rows(
        self, rows: torch.Tensor, cols: torch.Tensor, idx: torch.Tensor | None = None
    ) -> torch.Tensor:
        """S(rows[idx], cols) as floats; S(rows, cols) is computed once per pair of label tensors.

        The labels of a run never change while it trains (these methods correct none), so the
        n×n similarity is kept as booleans (n² bytes) up to ``SIMILARITY_CACHE_ITEMS`` items and
        its rows are read per batch; larger sets compute each batch's rows afresh. Same values
        either way.
        """
        if rows.shape[0] > SIMILARITY_CACHE_ITEMS:
            return similarity(rows if idx is None else rows[idx], cols)
        cache = self.__dict__.setdefault("_similarity_cache", [])
        versions = (rows._version, cols._version)
        full = next((f for r, c, v, f in cache if r is rows and c is cols and v == versions), None)
        if full is None:  # not yet computed for these very label tensors (kept alive by the cache)
            full = torch.cat(
                [similarity(rows[i : i + 1024], cols).bool() for i in range(0, rows.shape[0], 1024)]
            )
            cache.append((rows, cols, versions, full))
        return (full if idx is None else full[idx]).float()

    def chunked_nll(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        labels_a: torch.Tensor,
        labels_b: torch.Tensor,
        chunk: int = 1024,
    ) -> float:
        """Σ_{i,j} softplus(Θ_ij) − S_ij Θ_ij over all pairs of rows of ``a`` and ``b``, chunked."""
        total = 0.0
        for start in range(0, a.shape[0], chunk):
            sl = slice(start, start + chunk)
            s = self.similarity_rows(labels_a, labels_b, torch.arange(start, min(start + chunk, a.shape[0])))
            total += float(pairwise_nll(theta(a[sl], b), s).sum())
        return total

    # ------------------------------------------------------------------ the skeleton's hooks
    def prepare(self, data: TrainData) -> None:
        self.build_buffers(data)

    def log_names(self) -> tuple[str, ...]:
        return ()

    def begin_epoch(self, data: TrainData, epoch: int, log: EpochLog) -> Any:
        if self.F.shape[0] != len(data):
            raise ValueError(
                f"{self.name}: fit_epoch got {len(data)} training items but its buffers hold "
                f"{self.F.shape[0]}; the training set must not change between epochs"
            )

    def train_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """The image step, then the text step (``first``), each one pass with its own optimiser."""
        order = ("image", "text") if self.hp["first"] == "image" else ("text", "image")
        for modality in order:
            x = getattr(data, modality)

            def loss_fn(idx: torch.Tensor, modality: str = modality, x: torch.Tensor = x):
                u = self.continuous(modality, x[idx])
                self.buffer(modality)[idx] = u.detach()
                loss, terms = self.batch_terms(modality, u, idx, data)
                return loss, {"loss": loss, **terms}

            self.run_pass(
                self.pass_batches(len(data)), loss_fn, log, optimizers=(modality,), suffix=f"_{modality}"
            )

    def objective_due(self, data: TrainData, epoch: int) -> bool:
        """Whether epoch ``epoch`` (from 0) logs J: the first, every ``objective_every``-th, the last."""
        every = int(self.hp["objective_every"])
        last = epoch + 1 >= self.epoch_budget(data, 0)
        return epoch == 0 or last or (every > 0 and (epoch + 1) % every == 0)

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """The B-step, then the full objective J (logged as ``loss``) when :meth:`objective_due`."""
        self.update_codes()
        means = log.means()
        log.set("batch_loss", 0.5 * (means["loss_image"] + means["loss_text"]))
        if self.objective_due(data, epoch):
            with torch.no_grad():
                objective = self.objective_terms(data)
            log.update(objective)
            log.set("loss", objective["objective"])
        log.set("codes_zero_fraction", float((self.B == 0).float().mean()))

    def sample_loss_context(self, data: TrainData) -> Any:
        return self.outputs_all("image", data.image), self.outputs_all("text", data.text)

    def per_sample_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> torch.Tensor:
        """Per item i: mean over j of the cross-modal NLL of (image i, text j) and (text i, image j)."""
        f, g = context
        li, lt = data.labels_of("image"), data.labels_of("text")
        return 0.5 * (
            pairwise_nll(theta(f[idx], g), similarity(li[idx], lt)).mean(1)
            + pairwise_nll(theta(g[idx], f), similarity(lt[idx], li)).mean(1)
        )

    def extra_state_for_store(self) -> dict[str, Any]:
        if self.B is None:
            return {}
        return {
            "codes_zero_fraction": float((self.B == 0).float().mean()),
            "codes_bit_mean_abs": float(self.B.float().mean(0).abs().mean()),
        }


__all__ = ["SKELETON_HYPERPARAMETERS", "SharedCodeHasher"]
