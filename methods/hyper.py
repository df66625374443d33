"""Declared hyperparameters: :class:`Hyper` (default, source, meaning) and CLI value coercion."""
from __future__ import annotations

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


__all__ = ["Hyper", "coerce"]
