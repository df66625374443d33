"""Experiment grids: command-line options and TOML files expanded to :class:`RunConfig` cells.

A TOML experiment file holds the same keys as ``xbench run`` (``methods``, ``datasets``,
``bits``, ``noise``, ``seeds``, ``epochs``, ``set``, ``eval_every``, ``loss_epochs``,
``noise_per_modality``, ``topk``, ``dataset_options``) at top level and, optionally, named
run groups under ``[groups.NAME]`` (like ann-benchmarks' run groups): each group starts from
the top-level keys and overrides them. Command-line options override every group. The
grid is the cartesian product methods × datasets × bits × noise × seeds × the method's
``--set`` value lists.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from .config import RunConfig

GRID_KEYS = ("methods", "datasets", "bits", "noise", "seeds", "epochs", "set", "eval_every", "loss_epochs",
             "noise_per_modality", "topk", "dataset_options", "assumed_noise_rate", "split_file")


class GridError(ValueError):
    """A problem with the grid specification (reported before anything trains)."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def parse_set_options(items: list[str] | dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """``["cmmq.mq_weight=0,0.7"]`` or ``{"cmmq.mq_weight": [0, 0.7]}`` → {method: {param: values}}."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise GridError(f"--set '{item}': expected METHOD.PARAM=V1[,V2...]")
            pairs.append((key.strip(), _as_list(value) or [""]))
    out: dict[str, dict[str, list[Any]]] = {}
    for key, values in pairs:
        method, dot, param = key.partition(".")
        if not dot or not method or not param:
            raise GridError(f"--set '{key}': expected METHOD.PARAM (e.g. cmmq.mq_weight)")
        out.setdefault(method, {})[param] = _as_list(values) if not isinstance(values, list) else values
    return out


#: Noise of a grid that names none: the setting of the CMMQ paper's Table 2 (symmetric noise, rate 0.6).
DEFAULT_NOISE = "symmetric:0.6"


@dataclass
class GridSpec:
    """One run group's axes before expansion."""

    name: str = ""
    methods: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    bits: list[int] = field(default_factory=lambda: [32, 64, 128])
    noise: list[str] = field(default_factory=lambda: [DEFAULT_NOISE])
    seeds: list[int] = field(default_factory=lambda: [0])
    epochs: int | None = None
    set: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    eval_every: int = 0
    loss_epochs: list[int] = field(default_factory=list)
    noise_per_modality: bool = False
    topk: Any = "dataset"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    assumed_noise_rate: float | None = None
    split_file: str | None = None

    def update(self, values: dict[str, Any], where: str) -> None:
        for key, value in values.items():
            if key == "groups" or value is None:
                continue
            if key not in GRID_KEYS:
                raise GridError(f"{where}: unknown key '{key}'; valid: {', '.join(GRID_KEYS)}")
            if key in ("methods", "datasets", "noise"):
                value = [str(v) for v in _as_list(value)]
            elif key in ("bits", "seeds", "loss_epochs"):
                try:
                    value = [int(v) for v in _as_list(value)]
                except ValueError:
                    raise GridError(f"{where}: '{key}' must be integers, got {value!r}") from None
            elif key == "set":
                merged = {m: dict(p) for m, p in self.set.items()}
                for m, params in parse_set_options(value).items():
                    merged.setdefault(m, {}).update(params)
                value = merged
            elif key == "dataset_options":
                if not isinstance(value, dict):
                    raise GridError(f"{where}: 'dataset_options' must be a table of KEY = VALUE")
                value = {**self.dataset_options, **value}
            elif key in ("epochs", "eval_every"):
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise GridError(f"{where}: '{key}' must be an integer, got {value!r}") from None
            setattr(self, key, value)


def read_experiment(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise GridError(f"--config {path}: no such file")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"--config {path}: invalid TOML ({exc})") from None


def build_specs(config_file: str | Path | None, cli: dict[str, Any], groups: list[str] | None = None
                ) -> list[GridSpec]:
    """Run groups from an optional TOML file with the command-line values on top."""
    doc = read_experiment(config_file) if config_file else {}
    where = str(config_file) if config_file else "options"
    group_docs = doc.get("groups") or {}
    if not isinstance(group_docs, dict):
        raise GridError(f"{where}: 'groups' must be a table of named groups")
    names = list(group_docs) or [""]
    if groups:
        missing = [g for g in groups if g not in group_docs]
        if missing:
            raise GridError(f"--group {', '.join(missing)}: not in {where}; valid: {', '.join(group_docs) or '(none)'}")
        names = list(groups)
    specs = []
    for name in names:
        spec = GridSpec(name=name)
        spec.update({k: v for k, v in doc.items() if k != "groups"}, where)
        if name:
            spec.update(group_docs[name], f"{where} [groups.{name}]")
        spec.update(cli, "options")
        specs.append(spec)
    return specs


def expand(spec: GridSpec) -> list[RunConfig]:
    """The cartesian product of one group's axes (methods must already be resolved names)."""
    cells = []
    for method, dataset, bits, noise, seed in itertools.product(spec.methods, spec.datasets, spec.bits, spec.noise,
                                                                spec.seeds):
        params = spec.set.get(method, {})
        keys = sorted(params)
        for values in itertools.product(*(params[k] for k in keys)):
            cells.append(RunConfig(
                method=method, dataset=dataset, bits=int(bits), noise=str(noise), seed=int(seed),
                epochs=spec.epochs, hparams=tuple(zip(keys, values)),
                dataset_options=tuple(sorted(spec.dataset_options.items())),
                noise_per_modality=bool(spec.noise_per_modality), assumed_noise_rate=spec.assumed_noise_rate,
                eval_every=int(spec.eval_every), loss_epochs=tuple(sorted(set(spec.loss_epochs))),
                topk=spec.topk, split_file=spec.split_file, group=spec.name,
            ))
    return cells
