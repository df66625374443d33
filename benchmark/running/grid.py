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
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from xbench.running.config import RunConfig

GRID_KEYS = (
    "methods",
    "datasets",
    "bits",
    "noise",
    "seeds",
    "epochs",
    "set",
    "eval_every",
    "loss_epochs",
    "noise_per_modality",
    "topk",
    "dataset_options",
    "assumed_noise_rate",
    "split_file",
    "retrieval",
    "select",
    "select_every",
    "validation_fraction",
)


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


def _strict_int(value: Any, key: str, where: str) -> int:
    """An integer from an int, an integral float or a string; bools and fractions are refused."""
    if isinstance(value, bool):
        raise GridError(f"{where}: '{key}' must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        f = float(str(value).strip()) if not isinstance(value, float) else value
    except ValueError:
        raise GridError(f"{where}: '{key}' must be an integer, got {value!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise GridError(f"{where}: '{key}' must be an integer, got {value!r}")
    return int(f)


def _strict_bool(value: Any, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise GridError(f"{where}: '{key}' must be true or false, got {value!r}")


def _strings(value: Any, key: str, where: str) -> list[str]:
    items = _as_list(value)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise GridError(f"{where}: '{key}' must be names (strings), got {bad[0]!r}")
    return [v.strip() for v in items if v.strip()]


def parse_set_options(items: list[str] | dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """``["cmmq.mq_weight=0,0.7"]`` or ``{"cmmq.mq_weight": [0, 0.7]}`` → {method: {param: values}}."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, dict):
        pairs = list(items.items())
    elif not isinstance(items, (list, tuple)):
        raise GridError(
            f"'set' must be a table of \"METHOD.PARAM\" = [VALUES] or a list of "
            f'"METHOD.PARAM=V1,V2" strings, got {items!r}'
        )
    else:
        for item in items:
            if not isinstance(item, str):
                raise GridError(f"'set': expected \"METHOD.PARAM=V1[,V2]\" strings, got {item!r}")
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise GridError(f"--set '{item}': expected METHOD.PARAM=V1[,V2...]")
            pairs.append((key.strip(), _as_list(value) or [""]))
    out: dict[str, dict[str, list[Any]]] = {}
    for key, values in pairs:
        method, dot, param = str(key).partition(".")
        if not dot or not method or not param:
            raise GridError(f"--set '{key}': expected METHOD.PARAM (e.g. cmmq.mq_weight)")
        values = _as_list(values) if not isinstance(values, list) else values
        if not values:
            raise GridError(f"--set '{key}': no values given")
        bad = [v for v in values if isinstance(v, (dict, list))]
        if bad:
            raise GridError(f"--set '{key}': values must be numbers, strings or booleans, got {bad[0]!r}")
        out.setdefault(method.strip(), {})[param.strip()] = values
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
    retrieval: list[str] = field(
        default_factory=list
    )  # extra real-valued rankings (xbench.running.selection)
    select: str = "last"
    select_every: int = 1
    validation_fraction: float = 0.1

    def update(self, values: dict[str, Any], where: str) -> None:
        for key, value in values.items():
            if key == "groups" or value is None:
                continue
            if key not in GRID_KEYS:
                raise GridError(f"{where}: unknown key '{key}'; valid: {', '.join(GRID_KEYS)}")
            if key in ("methods", "datasets", "noise"):
                value = _strings(value, key, where)
            elif key in ("bits", "seeds", "loss_epochs"):
                value = [_strict_int(v, key, where) for v in _as_list(value)]
            elif key == "set":
                merged = {m: dict(p) for m, p in self.set.items()}
                try:
                    parsed = parse_set_options(value)
                except GridError as exc:
                    raise GridError(f"{where}: {exc}") from None
                for m, params in parsed.items():
                    merged.setdefault(m, {}).update(params)
                value = merged
            elif key == "dataset_options":
                if not isinstance(value, dict):
                    raise GridError(f"{where}: 'dataset_options' must be a table of KEY = VALUE")
                bad = [k for k, v in value.items() if isinstance(v, (dict, list))]
                if bad:
                    raise GridError(f"{where}: dataset option '{bad[0]}' must be a number, string or boolean")
                value = {**self.dataset_options, **value}
            elif key == "retrieval":
                value = [
                    str(v).strip().lower() for v in _as_list(value) if str(v).strip().lower() != "hamming"
                ]
            elif key == "select":
                value = str(value).strip().lower()
            elif key == "validation_fraction":
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise GridError(
                        f"{where}: 'validation_fraction' must be a number, got {value!r}"
                    ) from None
            elif key in ("epochs", "eval_every", "select_every"):
                value = _strict_int(value, key, where)
            elif key == "noise_per_modality":
                value = _strict_bool(value, key, where)
            elif key == "split_file":
                if not isinstance(value, str) or not value.strip():
                    raise GridError(f"{where}: 'split_file' must be a path (string), got {value!r}")
            elif key == "assumed_noise_rate":
                try:
                    value = float(value) if not isinstance(value, bool) else None
                except (TypeError, ValueError):
                    value = None
                if value is None or not math.isfinite(value):
                    raise GridError(
                        f"{where}: 'assumed_noise_rate' must be a number in [0, 1), got {values[key]!r}"
                    )
            elif key == "topk":
                if isinstance(value, str) and value.strip().lower() in ("dataset", "all", "none"):
                    value = value.strip().lower()
                else:
                    try:
                        value = _strict_int(value, key, where)
                    except GridError:
                        raise GridError(
                            f"{where}: 'topk' must be a positive integer, 'all' or 'dataset', got {value!r}"
                        ) from None
            setattr(self, key, value)


def read_experiment(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise GridError(f"--config {path}: no such file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise GridError(
            f"--config {path}: not UTF-8 text (byte {exc.start}); TOML files must be UTF-8"
        ) from None
    except OSError as exc:
        raise GridError(f"--config {path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"--config {path}: invalid TOML ({exc})") from None


def build_specs(
    config_file: str | Path | None, cli: dict[str, Any], groups: list[str] | None = None
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
            raise GridError(
                f"--group {', '.join(missing)}: not in {where}; valid: {', '.join(group_docs) or '(none)'}"
            )
        names = list(groups)
    specs = []
    for name in names:
        spec = GridSpec(name=name)
        spec.update({k: v for k, v in doc.items() if k != "groups"}, where)
        if name:
            if not isinstance(group_docs[name], dict):
                raise GridError(f"{where}: [groups.{name}] must be a table of grid keys")
            spec.update(group_docs[name], f"{where} [groups.{name}]")
        try:
            spec.update(cli, "options")
        except GridError as exc:  # name the command-line option: "--bits: must be ..."
            raise GridError(
                re.sub(r"^options: '(\w+)'", lambda m: "--" + m.group(1).replace("_", "-") + ":", str(exc))
            ) from None
        specs.append(spec)
    return specs


def expand(spec: GridSpec) -> list[RunConfig]:
    """The cartesian product of one group's axes (methods must already be resolved names)."""
    from xbench.running.selection import check_options

    problems = check_options(spec.select, spec.select_every, spec.validation_fraction, tuple(spec.retrieval))
    if problems:
        raise GridError(f"{spec.name or 'options'}: " + "; ".join(problems))
    cells = []
    for method, dataset, bits, noise, seed in itertools.product(
        spec.methods, spec.datasets, spec.bits, spec.noise, spec.seeds
    ):
        params = spec.set.get(method, {})
        keys = sorted(params)
        for values in itertools.product(*(params[k] for k in keys)):
            cells.append(
                RunConfig(
                    method=method,
                    dataset=dataset,
                    bits=int(bits),
                    noise=str(noise),
                    seed=int(seed),
                    epochs=spec.epochs,
                    hparams=tuple(zip(keys, values, strict=False)),
                    dataset_options=tuple(sorted(spec.dataset_options.items())),
                    noise_per_modality=bool(spec.noise_per_modality),
                    assumed_noise_rate=spec.assumed_noise_rate,
                    eval_every=int(spec.eval_every),
                    loss_epochs=tuple(sorted(set(spec.loss_epochs))),
                    topk=spec.topk,
                    split_file=spec.split_file,
                    group=spec.name,
                    retrieval=tuple(dict.fromkeys(spec.retrieval)),
                    select=spec.select,
                    select_every=int(spec.select_every),
                    validation_fraction=float(spec.validation_fraction),
                )
            )
    return cells
