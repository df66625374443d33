"""``bce``: the CMMQ paper's "basic cross-modal hashing model with binary cross-entropy loss".

Source: CMMQ paper (Yang et al., CVPR 2022) — Figure 1 ("We train a basic cross-modal
hashing model with binary cross-entropy loss") and §4.5 / Figure 8 (test mAP per epoch of
"the BCE loss" against CMMQ); docs/methods/cmmq.md.

Reading [R]: the paper does not define this baseline further. We read it as CMMQ with its
two noise-robustness devices removed — the same networks, the same Hadamard proxy targets
(majority vote for multi-label items) and the same per-modality PC loss
β · BCE((1+b)/2, o) + α · Σ(|b|−1)², summed over the two modalities, with **no small-loss
selection** (R(t) ≡ 1: every sample of every mini-batch trains) and **no mutual
quantization** (λ = 0). Optimiser and settings as for ``cmmq`` (RMSprop, lr 1e-5 end to end,
1e-3 on features, weight decay 1e-5, batch 128), so ``bce`` vs ``cmmq`` isolates what
selection + MQ buy (the paper's Figure 8). ``sample_losses`` returns the per-sample PC loss.
"""

from __future__ import annotations

from typing import ClassVar

from .base import Hyper
from .proxy_hasher import ProxyHasher, network_hypers, pc_hypers, pc_loss
from .proxy_hypers import paper_proxy_draw_hypers


class BCE(ProxyHasher):
    """Same networks and proxy BCE as ``cmmq``; no sample selection, no mutual quantization."""

    name = "bce"
    display_name, order, color, marker = "BCE", 20, "#56b4e9", "X"
    description = "basic proxy-BCE cross-modal hashing (CMMQ without selection and mutual quantization)"
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        **network_hypers(),
        **pc_hypers(),
        **paper_proxy_draw_hypers(),
    }
    selects_samples = False

    def losses(self, b_image, b_text, o_image, o_text):
        hp = self.hp
        pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + pc_loss(
            b_text, o_text, hp["alpha"], hp["beta"], hp["quant"]
        )
        return {"pc": pc, "joint": pc}

    def keep_ratio_at(self, epoch: int, rho: float) -> float:
        return 1.0


__all__ = ["BCE"]
