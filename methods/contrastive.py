"""MRL's loss pieces (Hu et al., CVPR 2021), shared by ``mrl`` and ``uot-rcl``.

* :func:`robust_clustering_loss` — the RC loss, mean over samples of log(1 − p(ỹ|x)),
  p = softmax(zᵀC/τ) over L2-normalised z and class centres (paper Eq. 5; the official
  ``MeanClusteringError`` computes log Σ_{k≠y} p_k, which is the same quantity,
  penghu-cs/MRL#2). Minimising it pushes probability mass away from the negatives. It is
  unbounded below; a clamp keeps it finite for small τ (methods.md §5).
* :func:`multimodal_contrastive_loss` — the MC loss between the paired modalities as in
  the official code: self-similarity removed from numerator and denominator, i.e. NT-Xent
  over the 2N embeddings (the paper's Eq. 6–7 keep the self term; methods.md §5).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def robust_clustering_loss(logits: torch.Tensor, labels: torch.Tensor, eps: float = 1e-7,
                           reduction: str = "mean") -> torch.Tensor:
    """RC loss from class logits (N×C) and (noisy) labels: N class indices or N×C multi-hot.

    For multi-hot labels the positive mass is Σ_{k∈y} p_k (reconstruction for multi-label
    use; MRL itself is single-label).
    """
    p = logits.softmax(dim=1)
    if labels.dim() == 1:
        pos = p.gather(1, labels.long().view(-1, 1)).squeeze(1)
    else:
        pos = (p * labels.float()).sum(1)
    per_sample = torch.log((1.0 - pos).clamp_min(eps))
    return per_sample.mean() if reduction == "mean" else per_sample


def multimodal_contrastive_loss(z_image: torch.Tensor, z_text: torch.Tensor, tau: float = 1.0,
                                reduction: str = "mean") -> torch.Tensor:
    """NT-Xent between paired rows of two modalities, self-similarity excluded.

    Rows are L2-normalised; for each of the 2N embeddings the positive is its partner in
    the other modality and the negatives are all other 2N−2 embeddings. Returns the mean
    over the 2N anchors (or the per-pair mean of both anchors with ``reduction="none"``).
    """
    n = z_image.shape[0]
    z = F.normalize(torch.cat([z_image, z_text], dim=0), dim=1)
    sim = z @ z.t() / tau
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    per_anchor = F.cross_entropy(sim, target, reduction="none")
    if reduction == "mean":
        return per_anchor.mean()
    return 0.5 * (per_anchor[:n] + per_anchor[n:])
