"""Declared hyperparameters: :class:`Hyper` (default, source, meaning), CLI value coercion and checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hyper:
    """A declared hyperparameter: default value, where it comes from, what it means.

    ``features_default`` (if not None) replaces ``default`` when the image input is
    precomputed features rather than raw images (documented per method).
    """

    default: Any
    source: str
    help: str = ""
    features_default: Any = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None  # None → inferred by check_hyper_value
    maximum: float | None = None


def coerce(value: Any, like: Any) -> Any:
    """Convert a CLI string (or number) to the type of the default ``like``."""
    if isinstance(value, str) and not isinstance(like, str):
        text = value.strip()
        if isinstance(like, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected a boolean, got '{value}'")
        if isinstance(like, int):
            f = float(text)
            if f != int(f):
                raise ValueError(f"expected an integer, got '{value}'")
            return int(f)
        if isinstance(like, float):
            return float(text)
        if like is None:
            for conv in (int, float):
                try:
                    return conv(text)
                except ValueError:
                    pass
            return None if text.lower() == "none" else text
        if isinstance(like, (tuple, list)):
            parts = [p for p in text.replace(";", ",").split(",") if p]
            return type(like)(coerce(p, like[0] if like else 0.0) for p in parts)
    if isinstance(like, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


_SIZE_KEYS = ("batch_size", "_size", "hidden", "_dim", "_k")


def check_hyper_value(owner: str, key: str, hyper: Hyper, value: Any) -> Any:
    """Validate one coerced hyperparameter value against its declaration; returns it (ints as int).

    The value must have the default's type (a bool for a bool, an integral number for an int,
    a finite number for a float, a string for a string). Bounds: ``hyper.minimum`` /
    ``hyper.maximum`` when declared; otherwise a number whose default is ≥ 0 must be ≥ 0, and
    an integer size (``batch_size``, ``*_size``, ``*hidden``, ``*_dim``, ``*_k``) whose
    default is positive must be ≥ 1. ``None`` is allowed where the default is ``None``.
    """
    like = hyper.default if hyper.default is not None else hyper.features_default
    where = f"{owner}.{key}"
    if value is None:
        if hyper.default is None:
            return value
        raise ValueError(f"{where}: a value is required")
    if isinstance(like, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")  # noqa: TRY004
        return value
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")  # noqa: TRY004
        if not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r}")
        if isinstance(like, int) and not isinstance(like, bool):
            if value != int(value):
                raise ValueError(f"{where}: expected an integer, got {value!r}")
            value = int(value)
        low = hyper.minimum
        if low is None and like >= 0:
            low = 1 if isinstance(like, int) and like > 0 and key.endswith(_SIZE_KEYS) else 0
        if low is not None and value < low:
            raise ValueError(f"{where}: expected a value ≥ {low:g}, got {value!r}")
        if hyper.maximum is not None and value > hyper.maximum:
            raise ValueError(f"{where}: expected a value ≤ {hyper.maximum:g}, got {value!r}")
        return value
    if isinstance(like, str) and not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")  # noqa: TRY004
    return value


__all__ = ["Hyper", "check_hyper_value", "coerce"]
