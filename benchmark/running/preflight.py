"""Everything that can be checked before any training: the grid's values, its data, the results folder.

``xbench run`` calls :func:`check_specs` (the run groups as written), :func:`check_configs`
(every cell: names, noise, code length, hyperparameters, seeds, epochs, top-k, rates) and
:func:`check_data` (each dataset loaded and validated once, split files read against it,
the noise model applied-checked against its labels), then :func:`check_results_folder`.
Every function returns a list of one-line problems naming the option or file and what was
expected; the command prints one line per problem and exits with status 2 before anything
is written or trained.

Bounds that are not a method's own (documented in docs/running.md):

* code length: ``1 ≤ bits ≤ MAX_BITS`` (4096, 32× the papers' longest codes; a method may
  declare a smaller ``max_bits``), on top of the method's ``check_bits``;
* seeds: integers in ``[0, 2**32)`` (numpy's seed range);
* epochs: ``1 ≤ epochs ≤ MAX_EPOCHS``; ``eval_every ≥ 0``; loss epochs in ``[1, epochs]``;
* ``topk``: a positive integer, ``all`` or ``dataset``; noise rates in ``[0, 1)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xbench.running.config import RunConfig

MAX_BITS = 4096
MAX_SEED = 2**32
MAX_EPOCHS = 100_000


def canonical_noise(text: str) -> str:
    """One spelling per noise spec: ``Symmetric:0.60`` → ``symmetric:0.6``; ``clean`` → ``none``.

    The rate is written with ``%g`` unless that loses digits (then ``repr``). Unparsable specs
    are returned unchanged (they are reported by :func:`check_configs`).
    """
    from xbench import noise

    try:
        spec = noise.NoiseSpec.parse(text)
    except ValueError:
        return str(text)
    if spec.kind == "none":
        return "none"
    rate = f"{spec.rate:g}"
    if float(rate) != spec.rate:
        rate = repr(spec.rate)
    return f"{spec.kind}:{rate}"


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        message = " ".join(str(message).split())
        if message not in self.items:
            self.items.append(message)


def check_specs(specs: list[Any]) -> list[str]:
    """Problems in the run groups as written: ``--set`` naming an unknown method or parameter."""
    from xbench import methods

    out = _Problems()
    for spec in specs:
        for method, params in spec.set.items():
            if method not in methods.registry:
                out.add(
                    f"--set {method}.{next(iter(params), 'PARAM')}: unknown method '{method}'; valid: "
                    f"{', '.join(methods.registry.names())}"
                )
                continue
            cls = methods.get(method)
            for param, values in params.items():
                for value in values:
                    try:
                        cls.resolve_hyperparameters({param: value})
                    except ValueError as exc:
                        out.add(f"--set: {exc}")
    return out.items


def _int_problem(value: Any, low: int, high: int | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return True
    return value < low or (high is not None and value >= high)


def check_configs(configs: list[RunConfig]) -> list[str]:
    """Problems of the cells themselves (no data is read)."""
    from xbench import datasets, methods, noise

    out = _Problems()
    for cfg in configs:
        try:
            cls = methods.get(cfg.method)
        except KeyError as exc:
            out.add(f"--methods: {exc}")
            cls = None
        try:
            datasets.get(cfg.dataset)
        except KeyError as exc:
            out.add(f"--datasets: {exc}")
        try:
            noise.resolve(cfg.noise)
        except ValueError as exc:
            out.add(f"--noise: {exc}")
        if _int_problem(cfg.bits, 1, None):
            out.add(f"--bits: code lengths must be positive integers, got {cfg.bits!r}")
        elif cls is not None:
            message = cls.check_bits(cfg.bits)
            limit = int(getattr(cls, "max_bits", MAX_BITS))
            if message:
                out.add(f"--bits: {message}")
            elif cfg.bits > limit:
                out.add(f"--bits: {cfg.method} supports at most {limit} bits, got {cfg.bits}")
        if cls is not None:
            try:
                cls.resolve_hyperparameters(cfg.hparams_dict)
            except ValueError as exc:
                out.add(f"--set: {exc}")
        if _int_problem(cfg.seed, 0, MAX_SEED):
            out.add(f"--seeds: seeds must be integers in [0, 2**32), got {cfg.seed!r}")
        if cfg.epochs is not None and _int_problem(cfg.epochs, 1, MAX_EPOCHS + 1):
            out.add(f"--epochs: must be an integer from 1 to {MAX_EPOCHS}, got {cfg.epochs!r}")
        if _int_problem(cfg.eval_every, 0, None):
            out.add(f"--eval-every: must be a non-negative integer (0 = never), got {cfg.eval_every!r}")
        bad_loss = [
            e
            for e in cfg.loss_epochs
            if _int_problem(e, 1, None) or (cfg.epochs is not None and e > cfg.epochs)
        ]
        if bad_loss:
            out.add(f"--loss-epochs: epochs must be integers from 1 to the run's epochs, got {bad_loss[0]!r}")
        if not (cfg.topk in ("dataset", "all", "none", None) or not _int_problem(cfg.topk, 1, None)):
            out.add(f"--topk: expected a positive integer, 'all' or 'dataset', got {cfg.topk!r}")
        rate = cfg.assumed_noise_rate
        if rate is not None and not (isinstance(rate, (int, float)) and 0.0 <= rate < 1.0):
            out.add(f"--assumed-noise-rate: must be in [0, 1), got {rate!r}")
        if cfg.split_file and not Path(cfg.split_file).is_file():
            out.add(f"--split-file {cfg.split_file}: no such file")
    return out.items


def check_data(
    configs: list[RunConfig],
    data_root: str | Path,
    load: Callable[[str, str, tuple[tuple[str, Any], ...]], Any],
) -> list[str]:
    """Load each (dataset, options) once with ``load`` and check what depends on the data.

    Checked: the dataset loads (files present and well-formed, options valid), it has a
    split or a split file is given, each split file fits it, the method can train the code
    length on it (``Hasher.check_problem``, e.g. ``cca``'s components ≤ the smaller feature
    dimension), each noise model can be applied to its labels, and a numeric ``topk`` is at
    most the database size.
    """
    import numpy as np

    from xbench import datasets, methods, noise
    from xbench.datasets import splits as split_io

    out = _Problems()
    loaded: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
    split_checked: dict[tuple[Any, str], Any] = {}
    noise_checked: set[tuple[Any, ...]] = set()
    for cfg in configs:
        try:
            datasets.get(cfg.dataset)
        except KeyError:
            continue  # reported by check_configs
        key = (cfg.dataset, cfg.dataset_options)
        if key not in loaded:
            try:
                loaded[key] = load(cfg.dataset, str(data_root), cfg.dataset_options)
            except (ValueError, OSError, KeyError, TypeError) as exc:
                opts = ", ".join(f"{k}={v}" for k, v in cfg.dataset_options)
                out.add(
                    f"--datasets {cfg.dataset}{' (' + opts + ')' if opts else ''}: "
                    f"{exc if str(exc) else type(exc).__name__}"
                )
                loaded[key] = None
        data = loaded[key]
        if data is None:
            continue
        try:
            cls = methods.get(cfg.method)
        except KeyError:
            cls = None  # reported by check_configs
        if cls is not None and data.image_kind == "images" and not getattr(cls, "accepts_raw_images", True):
            out.add(
                f"--methods {cfg.method} on {cfg.dataset}: needs precomputed image features, not raw images"
            )
            continue
        split = data.split
        if cfg.split_file:
            skey = (key, cfg.split_file)
            if skey not in split_checked:
                try:
                    split_checked[skey] = split_io.read_split_file(cfg.split_file, data.num_items)
                except (ValueError, OSError) as exc:
                    message = str(exc).removeprefix(f"split file {cfg.split_file}: ")
                    out.add(f"--split-file {cfg.split_file}: {message}")
                    split_checked[skey] = None
            split = split_checked[skey]
            if split is None:
                continue
        elif split is None:
            out.add(f"--datasets {cfg.dataset}: the dataset has no split; pass --split-file")
            continue
        if cls is not None:
            from xbench.running.runner import problem_shape

            problem = cls.check_problem(problem_shape(data, len(split.train)), cfg.bits)
            if problem:
                out.add(f"--methods {cfg.method} --bits {cfg.bits} on {cfg.dataset}: {problem}")
        if isinstance(cfg.topk, int) and not isinstance(cfg.topk, bool) and cfg.topk > len(split.database):
            out.add(
                f"--topk {cfg.topk}: larger than the {len(split.database)} database items of {cfg.dataset}"
            )
        nkey = (key, cfg.split_file, cfg.noise)
        if nkey in noise_checked:
            continue
        noise_checked.add(nkey)
        try:
            spec, model = noise.resolve(cfg.noise)
            labels = noise.as_multihot(np.asarray(data.take("labels", split.train)))
            model.validate(labels, spec.rate)
        except (ValueError, KeyError) as exc:
            out.add(f"--noise {cfg.noise} on {cfg.dataset}: {exc}")
    return out.items


def _writable(folder: Path) -> bool:
    """Whether files can be created in ``folder``: permissions and a read-only mount (nothing is written)."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    except (OSError, AttributeError):
        pass
    return os.access(folder, os.W_OK | os.X_OK)


def check_results_folder(results: str | Path) -> list[str]:
    """Whether the results folder can be created and written (nothing is created here)."""
    path = Path(results)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return [f"--results {results}: '{probe}' is a file, not a folder"]
    for sub in ("", "runs"):
        folder = path / sub if sub else path
        if folder.exists() and not folder.is_dir():
            return [f"--results {results}: '{folder}' is a file, not a folder"]
    check = path if path.exists() else probe
    if not _writable(check):
        return [f"--results {results}: folder '{check}' is not writable"]
    runs = path / "runs"
    if runs.is_dir():
        unwritable = [d for d in runs.rglob("*") if d.is_dir() and not os.access(d, os.W_OK | os.X_OK)]
        if not os.access(runs, os.W_OK | os.X_OK):
            unwritable.insert(0, runs)
        if unwritable:
            return [f"--results {results}: folder '{unwritable[0]}' is not writable"]
    return []
