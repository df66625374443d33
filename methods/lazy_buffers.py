"""Buffers registered empty (``None``) and filled when a module is fitted, loadable from a state dict.

A module that registers ``register_buffer(name, None)`` and sets the tensor later (input statistics,
DCMH's output buffers F, G and codes B) has no tensor to copy into before it is fitted, so PyTorch's
``load_state_dict`` rejects the fitted state as unexpected keys. :class:`LazyBuffers` allocates such
a buffer from the incoming tensor's shape and dtype first, so a trained method's ``state_dict``
loads into a freshly built one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class LazyBuffers(nn.Module):
    """``nn.Module`` whose ``None`` buffers take their shape from the state dict being loaded."""

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        for name, buffer in self._buffers.items():
            value = state_dict.get(prefix + name)
            if buffer is None and isinstance(value, torch.Tensor):
                self._buffers[name] = torch.empty_like(value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


__all__ = ["LazyBuffers"]
