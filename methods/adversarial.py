"""Modality discriminators and adversarial losses (SSAH, Li et al., CVPR 2018).

Sources: official code lelan-li/SSAH @ 8780b20
(``tnet.py`` ``dis_net_IL``/``dis_net_TL`` L113-153; ``SSAH.py`` L96-130; ``ops.py``
``sce_criterion``).

* :class:`Discriminator` — ``dim → 512 → 256 → 1`` with ReLU, a logit output (the official
  dropout runs with keep_prob 1.0, so it is left out).
* :func:`discriminator_loss` — the D-step: features of the label network are "real" (1),
  features of a modality network are "fake" (0). The official ``Loss_D`` averages the
  four mean terms of the two discriminators, i.e. each discriminator contributes
  ½·(ℓ(D(F^l), 1) + ℓ(D(F^m), 0)) and the sum over both is divided by 2.
* :func:`generator_loss` — the modality network's adversarial term ℓ(D(F^m), 1): it tries
  to make its features pass for label features (the non-saturating form the official code
  writes; the paper states a min–max over one adversarial loss).

``form="bce"`` is the official sigmoid cross-entropy on the logit (mean over the batch).
``form="squared"`` is the squared error ‖D(x) − y‖² on the raw output, the form the paper
states for L_adv **[R]** (recollection of the paper's Eq. for L_adv; not verified against
the PDF), averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from .networks import MLP

ADVERSARIAL_FORMS = ("bce", "squared")


class Discriminator(nn.Module):
    """SSAH's modality discriminator: ``dim → 512 → 256 → 1`` (ReLU), logit output."""

    def __init__(self, dim: int, hidden: tuple[int, int] = (512, 256), init_std: float | None = 0.01):
        super().__init__()
        self.mlp = MLP([dim, *hidden, 1], out_activation="linear")
        if init_std is not None:  # official: every weight and bias ~ 0.01·N(0, 1)
            for p in self.mlp.parameters():
                nn.init.normal_(p, 0.0, init_std)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features).squeeze(-1)


def adversarial_criterion(output: torch.Tensor, target: float, form: str = "bce") -> torch.Tensor:
    """Mean over the batch of ℓ(output, target) for a constant target 0 or 1."""
    y = torch.full_like(output, float(target))
    if form == "bce":
        return F.binary_cross_entropy_with_logits(output, y)
    if form == "squared":
        return ((output - y) ** 2).mean()
    raise ValueError(f"adversarial form must be one of {ADVERSARIAL_FORMS}, got {form!r}")


def discriminator_loss(
    d_image: Discriminator,
    d_text: Discriminator,
    f_label: torch.Tensor,
    f_image: torch.Tensor,
    f_text: torch.Tensor,
    form: str = "bce",
) -> torch.Tensor:
    """The D-step loss: (ℓ(D_I(F^v),0) + ℓ(D_T(F^t),0) + ℓ(D_I(F^l),1) + ℓ(D_T(F^l),1)) / 4."""
    return (
        adversarial_criterion(d_image(f_image), 0.0, form)
        + adversarial_criterion(d_text(f_text), 0.0, form)
        + adversarial_criterion(d_image(f_label), 1.0, form)
        + adversarial_criterion(d_text(f_label), 1.0, form)
    ) / 4.0


def generator_loss(discriminator: Discriminator, features: torch.Tensor, form: str = "bce") -> torch.Tensor:
    """The modality network's adversarial term ℓ(D(F^m), 1) (fool D into "label feature")."""
    return adversarial_criterion(discriminator(features), 1.0, form)


@torch.no_grad()
def discriminator_accuracy(
    d_image: Discriminator,
    d_text: Discriminator,
    f_label: torch.Tensor,
    f_image: torch.Tensor,
    f_text: torch.Tensor,
    form: str = "bce",
) -> float:
    """Fraction of the four groups' samples the discriminators classify correctly."""
    threshold = 0.0 if form == "bce" else 0.5
    right = (
        (d_image(f_image) < threshold).float().sum()
        + (d_text(f_text) < threshold).float().sum()
        + (d_image(f_label) >= threshold).float().sum()
        + (d_text(f_label) >= threshold).float().sum()
    )
    return float(right) / float(2 * f_label.shape[0] + f_image.shape[0] + f_text.shape[0])


def discriminator_step(
    d_image: Discriminator,
    d_text: Discriminator,
    f_label: torch.Tensor,
    f_image: torch.Tensor,
    f_text: torch.Tensor,
    form: str = "bce",
) -> tuple[torch.Tensor, dict]:
    """A D-step's (loss, logged terms) on detached features; ``dis_acc`` is a callable evaluated when
    logged, i.e. after the optimiser step."""
    f_label, f_image, f_text = f_label.detach(), f_image.detach(), f_text.detach()
    loss = discriminator_loss(d_image, d_text, f_label, f_image, f_text, form)
    return loss, {
        "loss_dis": loss,
        "dis_acc": lambda: discriminator_accuracy(d_image, d_text, f_label, f_image, f_text, form),
    }


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``module``'s parameters (they still pass through it)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=False):
            p.requires_grad_(flag)
