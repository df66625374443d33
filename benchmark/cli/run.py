"""`xbench run` — train and evaluate the experiment grid, one stored result per run."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
from pathlib import Path

import click

from xbench.cli.options import results_option
from xbench.errors import XbenchError


def _run_name(config: dict) -> str:
    hp = config.get("hparams") or {}
    return config["method"] + ("[" + ",".join(f"{k}={v}" for k, v in hp.items()) + "]" if hp else "")


def _summary_table(results) -> list[str]:
    """One line per run: method, dataset, bits, noise, seed, I→T and T→I mAP, training time."""
    ordered = sorted(
        results,
        key=lambda r: (
            r.config["dataset"],
            r.config["method"],
            r.config["bits"],
            r.config["noise"],
            r.config["seed"],
            _run_name(r.config),
        ),
    )
    w = max([len("method")] + [len(_run_name(r.config)) for r in ordered])
    wd = max([len("dataset")] + [len(r.config["dataset"]) for r in ordered])
    rows = [
        (
            f"{'method':<{w}} {'dataset':<{wd}} {'bits':>4} {'noise':<16} {'seed':>4} {'I→T':>7} {'T→I':>7} "
            f"{'train s':>8}  status"
        )
    ]
    for r in ordered:
        c = r.config
        ok = r.status == "ok"
        i2t = f"{r.metrics['i2t']['map']:.4f}" if ok else "—"
        t2i = f"{r.metrics['t2i']['map']:.4f}" if ok else "—"
        secs = f"{r.timings.get('train', 0.0):.1f}" if ok else "—"
        status = "ok" if ok else f"FAILED: {r.error}"
        rows.append(
            f"{_run_name(c):<{w}} {c['dataset']:<{wd}} {c['bits']:>4} {c['noise']:<16} {c['seed']:>4} "
            f"{i2t:>7} {t2i:>7} {secs:>8}  {status}"
        )
    return rows


def _parse_options(items) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise XbenchError(f"--dataset-option '{item}': expected KEY=VALUE")
        value = value.strip()
        for conv in (int, float):
            try:
                value = conv(value)
                break
            except ValueError:
                pass
        out[key.strip()] = value
    return out


@click.command()
@click.option(
    "--methods", "methods_", default=None, help="'all' or a comma list of method names [default: all]."
)
@click.option(
    "--datasets",
    "datasets_",
    default=None,
    help="Comma list of datasets (default: the paper's datasets found under the data root, else "
    "'synthetic'). 'files:PATH' loads your own file.",
)
@click.option("--bits", default=None, help="Comma list of code lengths [default: 32,64,128].")
@click.option(
    "--noise",
    default=None,
    help="Comma list of TYPE:RATE, e.g. symmetric:0.6,asymmetric:0.4; "
    "'none' for clean labels [default: symmetric:0.6, the CMMQ "
    "paper's Table 2].",
)
@click.option("--seeds", default=None, help="Comma list of seeds [default: 0].")
@click.option("--epochs", type=int, default=None, help="Epochs per run [default: each method's own].")
@click.option(
    "--set",
    "set_",
    multiple=True,
    metavar="METHOD.PARAM=V1[,V2]",
    help="Override a hyperparameter; several values expand the grid. Repeatable.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML experiment file (same keys; [groups.NAME] run groups). Options override it.",
)
@click.option("--group", "groups", multiple=True, help="Run only these groups of the --config file.")
@results_option("Results folder (runs are stored under RESULTS/runs/).")
@click.option(
    "--data-root",
    envvar="XBENCH_DATA_ROOT",
    default="data",
    show_default=True,
    help="Where the dataset files live (env XBENCH_DATA_ROOT).",
)
@click.option(
    "--noise-per-modality",
    is_flag=True,
    default=None,
    help="Draw image and text noisy labels independently (MRL's setting).",
)
@click.option(
    "--assumed-noise-rate",
    type=float,
    default=None,
    help="Noise rate given to small-loss methods instead of the true one.",
)
@click.option(
    "--eval-every",
    type=int,
    default=None,
    help="Record test and train (noisy/clean) mAP every E epochs (Figures 1 and 8).",
)
@click.option(
    "--loss-epochs",
    default=None,
    help="Comma list of epochs at which per-sample losses are saved (Figure 6).",
)
@click.option(
    "--topk", default=None, help="R of mAP@R: a number, 'all', or 'dataset' (its default) [default: dataset]."
)
@click.option(
    "--dataset-option",
    "dataset_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option passed to the dataset loader (e.g. num_items=2000 for synthetic). Repeatable.",
)
@click.option(
    "--split-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="A split file (query/train/database indices) overriding the dataset's split.",
)
@click.option(
    "--jobs",
    "-j",
    default="auto",
    show_default=True,
    help="Cells run in parallel (processes). auto: on the CPU, as many as the usable cores allow "
    "at --threads per cell; one per GPU.",
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Torch threads per cell [default: OMP_NUM_THREADS if set, else 1 for features-mode cells "
    "and cores/jobs for raw-image cells].",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, or cuda:0,cuda:1,...")
@click.option(
    "--backend",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="'dask' sends cells to a Dask cluster (see --scheduler).",
)
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://HOST:8786.")
@click.option("--force", is_flag=True, help="Rerun cells whose result already exists.")
@click.option(
    "--stale-after",
    type=float,
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="A claim on a cell whose owner has not renewed it for this long is taken over "
    "(shared folders; see docs/running.md).",
)
@click.option("--dry-run", is_flag=True, help="Print the cells that would run, then exit.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option(
    "--retrieval",
    default=None,
    metavar="cosine,euclidean",
    help="Also rank the real-valued outputs by these similarities (stored beside the Hamming results).",
)
@click.option(
    "--select",
    default=None,
    type=click.Choice(["last", "validation"]),
    help="'validation': also report the best-validation epoch's test results [default: last].",
)
@click.option("--select-every", type=int, default=None, help="Validation every E epochs [default: 1].")
@click.option(
    "--validation-fraction",
    type=float,
    default=None,
    help="Training fraction carved out for validation when the dataset has none [default: 0.1].",
)
def run(
    methods_,
    datasets_,
    bits,
    noise,
    seeds,
    epochs,
    set_,
    config_file,
    groups,
    results,
    data_root,
    noise_per_modality,
    assumed_noise_rate,
    eval_every,
    loss_epochs,
    topk,
    dataset_option,
    split_file,
    jobs,
    threads,
    device,
    backend,
    scheduler,
    force,
    stale_after,
    dry_run,
    quiet,
    **selection_options,
):
    """Train and evaluate every cell of the grid methods × datasets × bits × noise × seeds.

    Each run is stored as RESULTS/runs/DATASET/METHOD/RUN_ID.json (RUN_ID: a hash of the full
    configuration); existing results are skipped, so an interrupted grid resumes where it
    stopped. Configuration errors are reported for all cells before anything trains (exit 2);
    a run that fails is recorded and the grid goes on (exit 1 at the end). Several processes
    may share one results folder: each cell is claimed before it trains, so each trains once.

    Without --noise the labels get symmetric noise at rate 0.6, the setting of the CMMQ paper's
    Table 2 (--noise none for clean labels). On the CPU, cells run in parallel up to the usable
    cores with one torch thread per features-mode cell (--jobs auto; see docs/performance.md).
    """
    from xbench.running import executor

    cli = {
        "methods": methods_,
        "datasets": datasets_,
        "bits": bits,
        "noise": noise,
        "seeds": seeds,
        "epochs": epochs,
        "set": list(set_) or None,
        "noise_per_modality": noise_per_modality,
        "assumed_noise_rate": assumed_noise_rate,
        "eval_every": eval_every,
        "loss_epochs": loss_epochs,
        "topk": topk,
        "split_file": split_file,
        "dataset_options": _parse_options(dataset_option) or None,
        **selection_options,
    }
    from xbench.running.threads import parse_jobs

    early = []
    try:
        jobs = parse_jobs(jobs)
    except ValueError as exc:
        early.append(str(exc))
        jobs = 1
    if threads is not None and threads < 1:
        early.append(f"--threads: expected a positive integer, got {threads}")
    if backend == "dask" and not scheduler:
        early.append("--backend dask needs --scheduler tcp://HOST:PORT")
    if not (math.isfinite(stale_after) and stale_after > 0):
        early.append(f"--stale-after: must be a positive number of seconds, got {stale_after}")
    configs, devices = _checked_grid(config_file, cli, groups, data_root, results, device, early)
    try:
        todo, done = executor.plan(configs, results, devices, force=force, data_root=data_root)
    except (OSError, ValueError) as exc:
        raise XbenchError(f"{exc}") from None

    click.echo(
        f"{len(todo) + len(done)} run(s) in the grid: {len(done)} already done, {len(todo)} to run.", err=True
    )
    if dry_run:
        for cell in todo:
            click.echo(f"{cell.run_id}  {cell.config.label()}  [{cell.device}]")
        return
    busy: list = []
    if (jobs or len(todo)) > 1 or backend == "dask":  # workers load their own copies; free the checked ones
        from xbench.running.runner import _load_dataset

        _load_dataset.cache_clear()
    try:
        with _sigterm_as_interrupt():
            ran = executor.run_cells(
                todo,
                results,
                data_root,
                jobs=jobs,
                backend=backend,
                scheduler=scheduler,
                quiet=quiet,
                force=force,
                stale_after=stale_after,
                busy=busy,
                threads=threads,
                log=lambda m: click.echo(m, err=True),
            )
    except KeyboardInterrupt as exc:
        click.echo("Interrupted: finished runs are stored; run the same command again to resume.", err=True)
        sys.exit(143 if isinstance(exc, _Terminated) else 130)
    except OSError as exc:
        raise XbenchError(
            f"--results {results}: cannot store a result ({exc.strerror or exc}: {exc.filename or ''})"
        ) from None
    executor.stop_local_workers()  # every result is stored: end the workers now, not at interpreter exit
    for line in _summary_table(ran):
        click.echo(line)
    failed = [r for r in ran if r.status != "ok"]
    others = f", {len(busy)} left to other processes sharing the folder" if busy else ""
    click.echo(
        f"{len(ran) - len(failed)} run(s) ok, {len(failed)} failed, {len(done)} skipped{others} "
        f"(results in {Path(results) / 'runs'}).",
        err=True,
    )
    if failed:
        sys.exit(1)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that claims are released and workers stopped."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    def handler(signum, frame):
        raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. embedded): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _checked_grid(
    config_file, cli: dict, groups, data_root: str, results: str, device: str, early: list[str]
):
    """The grid's cells and devices, after every check that needs no training (else exit 2)."""
    from xbench import datasets as datasets_wing
    from xbench import methods as methods_wing
    from xbench.errors import XbenchProblems
    from xbench.running import executor, grid, preflight
    from xbench.running.runner import _load_dataset

    try:
        specs = grid.build_specs(config_file, cli, list(groups) or None)
    except grid.GridError as exc:
        raise XbenchProblems([*early, str(exc)]) from None
    configs = []
    notices: list[str] = []
    errors: list[str] = early + preflight.check_specs(specs)
    for spec in specs:
        if not spec.methods:
            spec.methods = ["all"]
        if spec.methods != ["all"]:
            for name in spec.methods:
                if name not in methods_wing.registry:
                    errors.append(
                        f"--methods: {methods_wing.UnknownEntryError('method', name, methods_wing.registry.names())}"
                    )
        spec.methods = methods_wing.registry.select(
            [m for m in spec.methods if m == "all" or m in methods_wing.registry]
        )
        if not spec.datasets:
            found = datasets_wing.default_datasets(data_root)
            if not found and not notices:
                notices.append(
                    f"No paper datasets found under '{data_root}'; using the embedded 'synthetic' "
                    "benchmark. Put MIRFlickr-25K / NUS-WIDE / MS-COCO files there (see README, "
                    "'Datasets') or pass --data-root."
                )
            spec.datasets = found or ["synthetic"]
        configs.extend(executor.normalize(c) for c in grid.expand(spec))
    errors += [e for e in preflight.check_configs(configs) if e not in errors]
    if not errors:
        errors += preflight.check_data(configs, data_root, _load_dataset)
    errors += preflight.check_results_folder(results)
    try:
        devices = executor.parse_devices(device)
    except grid.GridError as exc:
        errors.append(str(exc))
        devices = []
    if errors:
        raise XbenchProblems(errors)
    for line in notices:
        click.echo(line, err=True)
    return configs, devices
