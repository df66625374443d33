"""MRL's loss pieces (Hu et al., CVPR 2021), shared by ``mrl`` and ``uot-rcl``.

Sources: official code penghu-cs/MRL @ e0f5c8f
(``src/utils.py`` ``MeanClusteringError``; ``main_noisy.py`` ``cross_modal_contrastive_ctriterion``).

* :func:`robust_clustering_loss` — the RC loss, mean over samples of log(1 − p(ỹ|x)),
  p = softmax(zᵀC/τ) over L2-normalised z and class centres (paper Eq. 5; the official
  ``MeanClusteringError`` computes log(Σ_{k≠y} p_k / Σ_k p_k), the same quantity,
  penghu-cs/MRL#2). Minimising it pushes probability mass away from the negatives. It is
  unbounded below; it is evaluated as logsumexp(negative logits) − logsumexp(all logits)
  (exact, no cancellation in 1 − p) and floored at log(eps), which only bites when τ is
  made much smaller than MRL's τ = 1 (penghu-cs/MRL#2).
* :func:`multimodal_contrastive_loss` — the MC loss between the paired modalities. By
  default as in the official code: self-similarity removed from numerator and
  denominator, i.e. NT-Xent over the 2N embeddings. ``include_self=True`` gives the
  paper's Eqs. 6–7 (the sums over modalities keep the self term). The official value
  ``loss1 + loss2`` equals twice the mean over the 2N anchors; the paper's Eq. 7
  (−1/N Σ_modalities Σ_j log P) is the same sum over modalities of per-modality means —
  ``reduction="sum_modalities"`` returns that scale, ``"mean"`` the per-anchor mean.
* :func:`weighted_class_loss` — ``uot-rcl``'s weighted RC or cross-entropy loss against its
  corrected labels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def robust_clustering_loss(
    logits: torch.Tensor, labels: torch.Tensor, eps: float = 1e-7, reduction: str = "mean"
) -> torch.Tensor:
    """RC loss from class logits (N×C) and (noisy) labels: N class indices or N×C multi-hot
    (entries > 0 count as positive; soft weights are not supported).

    Per sample: log Σ_{k∉y} p_k = log(1 − p(y|x)) with p = softmax(logits), floored at
    log(``eps``). For multi-hot labels the positive mass is Σ_{k∈y} p_k (reconstruction for
    multi-label use [R]; MRL itself is single-label); an all-zero label row has no positive
    and contributes log 1 = 0. ``reduction``: ``"mean"`` (Eq. 5 for one modality) or
    ``"none"`` (N values).
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    if labels.dim() == 1:
        positive = F.one_hot(labels.long(), logits.shape[1]).bool()
    else:
        positive = labels > 0
    log_all = torch.logsumexp(logits, dim=1)
    log_neg = torch.logsumexp(logits.masked_fill(positive, float("-inf")), dim=1)
    per_sample = (log_neg - log_all).clamp_min(math.log(eps))
    return per_sample.mean() if reduction == "mean" else per_sample


def multimodal_contrastive_loss(
    z_image: torch.Tensor,
    z_text: torch.Tensor,
    tau: float = 1.0,
    reduction: str = "mean",
    include_self: bool = False,
) -> torch.Tensor:
    """Contrastive loss between paired rows of two modalities (rows are L2-normalised here).

    For each of the 2N embeddings z_a the positive is its partner in the other modality:
    P(a) = exp(z_aᵀz_a'/τ) / Σ_{b≠a} exp(z_aᵀz_b/τ) (official code, self excluded), or with
    ``include_self`` P(a) = (e^{1/τ} + exp(z_aᵀz_a'/τ)) / Σ_b exp(z_aᵀz_b/τ) (paper Eq. 6).
    The loss of an anchor is −log P(a). ``reduction``: ``"mean"`` over the 2N anchors,
    ``"sum_modalities"`` (Σ over the two modalities of the mean over pairs = 2 × mean; the
    paper's Eq. 7 and the official ``loss1 + loss2``) or ``"none"`` (N values, the mean of
    each pair's two anchors).
    """
    if reduction not in ("mean", "sum_modalities", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum_modalities' or 'none', got {reduction!r}")
    n = z_image.shape[0]
    z = F.normalize(torch.cat([z_image, z_text], dim=0), dim=1)
    sim = z @ z.t() / tau
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    if include_self:
        positive = eye | F.one_hot(partner, 2 * n).bool()
        log_pos = torch.logsumexp(sim.masked_fill(~positive, float("-inf")), dim=1)
        per_anchor = torch.logsumexp(sim, dim=1) - log_pos
    else:
        per_anchor = F.cross_entropy(sim.masked_fill(eye, float("-inf")), partner, reduction="none")
    if reduction == "mean":
        return per_anchor.mean()
    if reduction == "sum_modalities":
        return 2.0 * per_anchor.mean()
    return 0.5 * (per_anchor[:n] + per_anchor[n:])


def weighted_class_loss(
    logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, kind: str = "rc"
) -> torch.Tensor:
    """Σ_i w_i ℓ_i / Σ_i w_i of a per-sample class loss ℓ against (corrected) multi-hot labels (``uot-rcl``).

    ``kind``: ``rc`` — :func:`robust_clustering_loss`; ``ce`` — cross-entropy against the labels
    normalised to sum 1 (an all-zero row contributes 0) **[R]**.
    """
    if kind == "rc":
        per = robust_clustering_loss(logits, labels, reduction="none")
    elif kind == "ce":
        target = labels / labels.sum(1, keepdim=True).clamp_min(1.0)
        per = -(target * logits.log_softmax(1)).sum(1)
    else:
        raise ValueError(f"class loss must be 'rc' or 'ce', got {kind!r}")
    return (weight * per).sum() / weight.sum().clamp_min(1e-12)
