"""Learning-rate schedules: one declaration type and one function for every method.

A method declares its schedule by returning a :class:`Schedule` from
:meth:`~xbench.methods.base.Hasher.lr_schedule`; the training skeleton calls
:func:`learning_rate` once per epoch for every optimiser parameter group, with the group's
initial learning rate as ``base``. Kinds (``epoch`` counts from 0, ``T`` is the schedule
length: ``Schedule.epochs`` when positive, else the run's epoch budget):

* ``constant`` — ``base``;
* ``log`` — ``base·f^(e/(T−1))`` with f = ``end_factor``, MATLAB ``logspace`` (DCMH's
  ``DCMH_demo.m`` L19-21); the end rate after the schedule;
* ``linear`` — ``base + (base·f − base)·e/(T−1)`` (TF ``linspace``; torchcmh's PRDH);
* ``cosine`` — ``base·½(1 + cos(π·min(e, T)/T))``: PyTorch's ``CosineAnnealingLR`` with
  ``T_max = T`` and ``eta_min = 0`` (MRL's ``--ls cos``);
* ``step`` — ``base·decay^⌊e/step⌋`` (torchcmh's CMHH halving every 15 epochs);
* ``exponential`` — ``base·decay^e`` (SSAH's per-pass decay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("constant", "log", "linear", "cosine", "step", "exponential")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``kind`` and the parameters that kind reads."""

    kind: str = "constant"
    end_factor: float = 1.0  # log / linear: final rate ÷ initial rate
    decay: float = 1.0  # step / exponential: factor per step (per epoch for exponential)
    step: int = 1  # step: epochs between two decays
    epochs: int = 0  # log / linear / cosine: schedule length; 0 = the run's epoch budget

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown learning-rate schedule '{self.kind}'; valid: {', '.join(KINDS)}")
        if self.kind == "step" and int(self.step) < 1:
            raise ValueError(f"step schedule: expected a positive number of epochs per step, got {self.step}")


def learning_rate(schedule: Schedule, base: float, epoch: int, total: int) -> float:
    """The learning rate of 0-based ``epoch`` for initial rate ``base`` on a ``total``-epoch run."""
    kind = schedule.kind
    if kind == "constant":
        return base
    if kind == "step":
        return base * schedule.decay ** (epoch // int(schedule.step))
    if kind == "exponential":
        return base * schedule.decay**epoch
    if kind == "cosine":
        e = min(max(epoch, 0), total)
        return base * 0.5 * (1.0 + math.cos(math.pi * e / max(total, 1)))
    if total <= 1:
        return base
    end = base * schedule.end_factor
    t = min(epoch, total - 1) / (total - 1)
    if kind == "log":
        return float(base * (end / base) ** t)
    return float(base + (end - base) * t)  # linear


__all__ = ["KINDS", "Schedule", "learning_rate"]
