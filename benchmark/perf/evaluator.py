"""Evaluator benchmark: ``python -m xbench.perf`` (issue 3; a benchmark, not a test).

Times mAP@R of :mod:`xbench.evaluating.metrics` against a plain reference on a NUS-WIDE-sized problem
(default 2,100 queries × 188,000 database items, 64 bits, 10 labels, R = 5000), checks that both
give the same per-query AP (max |Δ| ≤ 1e-9), and prints wall/CPU time, the speed-up and memory.

Every measurement runs in its own subprocess (``--worker``) so that its memory is its own:
*peak RSS* is the process high-water mark (VmHWM, includes Python and NumPy); *+RSS* is the
growth of that mark during the timed computation alone (the mark is reset via
/proc/self/clear_refs after the data are made).

*Whole process* (issue 13 item 5): the inputs are saved once as an ``.npz`` file and
``python -m xbench evaluate FILE --topk R -o OUT.json`` is timed from spawn to exit — interpreter
start-up, imports, loading, validation, every default metric (the pooled PR curve is opt-in) and
the JSON — with its own CPU time and peak RSS (``os.wait4`` in a small launcher process that forks
it: a child of this large process would report this process's peak as its own); its mAP@R must
equal the reference's mean AP to 1e-12. The
ratio printed is the reference's compute time over this whole-process time (goal: ≥ 27× at the
default size). The command runs with its own default threads — the usable cores — unless ``--cli-threads N`` is given
(``OMP_NUM_THREADS`` is removed from its environment); ``--threads`` sets the threads of the other rows.
The row under it times a process that only starts Python and makes the command's imports, so the
difference is the command's own work.

Synthetic data (deterministic in ``--seed``): each item carries each of the L labels with
probability 0.15 (an item left without a label gets one uniformly at random); a random
prototype P ∈ {±1}^{L×K} per label; codes = sign(labels·P + 2·ε), ε ~ N(0, 1), with ≥ 0 → +1.
Queries and database items are drawn independently from this same process.

The reference is what peers do (DeepHash-pytorch ``CalcTopMap``, DCMH ``calc_map``), made
exact: distances 0.5·(K − qB·rBᵀ) and relevance (qL·rLᵀ > 0) for a block of queries, then per
query a *stable* ``argsort`` of the whole database row and AP over the hits in the top R.
``--reference-block 0`` computes the full query × database matrices at once, as peers do
(several GB at the default size); the default block of 256 queries is no slower and keeps the
reference at ~0.5 GB (measured at 700 queries: 8.7 s vs 11.0 s CPU, 0.5 vs 1.2 GB peak), so
the reported speed-up is, if anything, conservative.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Problem:
    queries: int = 2100
    database: int = 188_000
    bits: int = 64
    labels: int = 10
    topk: int = 5000
    seed: int = 0


def make_data(p: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(query_codes int8 ±1, db_codes int8 ±1, query_labels float32, db_labels float32)."""
    rng = np.random.default_rng(p.seed)
    proto = rng.choice(np.array([-1.0, 1.0]), size=(p.labels, p.bits))

    def side(n: int) -> tuple[np.ndarray, np.ndarray]:
        lab = rng.random((n, p.labels)) < 0.15
        empty = np.flatnonzero(~lab.any(axis=1))
        lab[empty, rng.integers(0, p.labels, empty.size)] = True
        out = lab.astype(np.float32) @ proto.astype(np.float32)
        out += 2.0 * rng.standard_normal((n, p.bits), dtype=np.float32)
        return np.where(out >= 0, 1, -1).astype(np.int8), lab.astype(np.float32)

    qc, ql = side(p.queries)
    dc, dl = side(p.database)
    return qc, dc, ql, dl


def reference_average_precisions(
    qc: np.ndarray, dc: np.ndarray, ql: np.ndarray, dl: np.ndarray, topk: int, block: int = 256
) -> np.ndarray:
    """Peer-style AP@R per query: full distance rows + stable argsort per query (``block=0``: one block)."""
    nq, k = qc.shape
    qb, rb = qc.astype(np.float32), dc.astype(np.float32)
    block = nq if block <= 0 else block
    aps = np.zeros(nq)
    for b0 in range(0, nq, block):
        hamm = 0.5 * (k - qb[b0 : b0 + block] @ rb.T)
        gnd_all = (ql[b0 : b0 + block] @ dl.T) > 0
        for i in range(hamm.shape[0]):
            ind = np.argsort(hamm[i], kind="stable")
            gnd = gnd_all[i][ind[:topk]]
            tsum = int(gnd.sum())
            if tsum:
                count = np.arange(1, tsum + 1, dtype=np.float64)
                tindex = np.flatnonzero(gnd) + 1.0
                aps[b0 + i] = float(np.mean(count / tindex))
        del hamm, gnd_all
    return aps


def _rss_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def worker(kind: str, p: Problem, out: str, block: int, device: str, threads: int = 1) -> dict:
    """Run one measurement in this process; returns its figures (AP array saved to ``out``)."""
    qc, dc, ql, dl = make_data(p)
    if kind != "reference":
        from xbench.evaluating import metrics

        if device != "cpu":
            import torch

            qc, dc, ql, dl = (torch.from_numpy(a).to(device) for a in (qc, dc, ql, dl))
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
    reset = _reset_peak()
    rss0 = _rss_mb("VmRSS")
    w0, c0 = time.perf_counter(), time.process_time()
    extra: dict = {}
    if kind == "reference":
        ap = reference_average_precisions(qc, dc, ql, dl, p.topk, block)
    elif kind == "map":
        ap = metrics.summarize(
            qc, dc, ql, dl, topk=p.topk, tie_averaged=False, threads=threads, pooled=False
        ).ap
    else:  # everything evaluate() reports, in one pass
        s = metrics.summarize(qc, dc, ql, dl, topk=p.topk, cutoffs=None, threads=threads)
        extra = {
            "map_tie_averaged": s.map_tie_averaged(),
            "precision@100": float(s.precision_at()[6]),
            "recall@100": float(s.recall_at()[6]),
            "precision_radius2": s.precision_within_radius(2),
            "pr_radius_points": len(s.pr_by_radius()["radius"]),
        }
        ap = s.ap
    if device != "cpu" and kind != "reference":
        torch.cuda.synchronize()
        extra["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    np.save(out, ap)
    peak = _rss_mb("VmHWM")
    return {
        "kind": kind,
        "wall_s": wall,
        "cpu_s": cpu,
        "map": float(ap.mean()),
        "peak_rss_mb": peak,
        "rss_before_mb": rss0,
        "delta_rss_mb": (peak - rss0) if (reset and peak and rss0) else None,
        **extra,
    }


def _spawn(kind: str, args: argparse.Namespace, out: Path) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [
        sys.executable,
        "-m",
        "xbench.perf",
        "--worker",
        kind,
        "--worker-out",
        str(out),
        "--queries",
        str(args.queries),
        "--database",
        str(args.database),
        "--bits",
        str(args.bits),
        "--labels",
        str(args.labels),
        "--topk",
        str(args.topk),
        "--seed",
        str(args.seed),
        "--reference-block",
        str(args.reference_block),
        "--device",
        args.device,
    ]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"perf worker '{kind}' failed:\n{res.stderr.strip()}")
    return json.loads(res.stdout.strip().splitlines()[-1])


#: Run by a small launcher process: it forks, execs the command given in argv and prints the command's
#: wall time (fork to exit), CPU time and peak RSS. A child forked straight from this (large) process
#: would report this process's peak RSS as its own (Linux carries the peak over fork and exec).
_LAUNCHER = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime,
                  "maxrss_kb": ru.ru_maxrss, "rc": os.waitstatus_to_exitcode(status)}))
"""


def _measured(cmd: list[str], env: dict, err_path: Path) -> dict:
    """Wall time, CPU time and peak RSS of ``cmd`` (stdout discarded, stderr to ``err_path``)."""
    with open(err_path, "wb") as err:
        res = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, *cmd],
            env=env,
            stderr=err,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
    figures = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {"rc": -1}
    if figures["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd[1:4])} failed:\n{err_path.read_text().strip()}")
    return figures


def whole_process(args: argparse.Namespace, tmp: Path) -> dict:
    """Time ``python -m xbench evaluate`` on saved inputs as a whole process (spawn to exit)."""
    p = Problem(args.queries, args.database, args.bits, args.labels, args.topk, args.seed)
    codes = tmp / "codes.npz"
    if not codes.exists():
        qc, dc, ql, dl = make_data(p)
        np.savez(codes, query_codes=qc, db_codes=dc, query_labels=ql, db_labels=dl)
        del qc, dc, ql, dl
    out = tmp / "evaluate.json"
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)  # the command's own default: the usable cores (or --cli-threads)
    cmd = [sys.executable, "-m", "xbench", "evaluate", str(codes), "--topk", str(args.topk), "-o", str(out)]
    if args.cli_threads:
        cmd += ["--threads", str(args.cli_threads)]
    run = _measured(cmd, env, tmp / "evaluate.stderr")
    result = json.loads(out.read_text())
    return {
        "kind": "cli",
        "threads": args.cli_threads or len(os.sched_getaffinity(0)),
        "wall_s": run["wall"],
        "cpu_s": run["cpu"],
        "map": result["map"],
        "peak_rss_mb": run["maxrss_kb"] / 1024,
        "rss_before_mb": None,
        "delta_rss_mb": None,
    }


def startup(args: argparse.Namespace, tmp: Path) -> dict:
    """Time a process that only starts Python and imports what ``xbench evaluate`` imports (best of 3).

    The whole-process row less this one is the command's own work: loading, checks, the metrics, JSON.
    """
    code = "import numpy, xbench.cli, xbench.cli.evaluate, xbench.evaluating.metrics, xbench.running.threads"
    runs = [
        _measured([sys.executable, "-c", code], dict(os.environ), tmp / "startup.stderr") for _ in range(3)
    ]
    best = min(runs, key=lambda r: r["wall"])
    return {
        "kind": "startup",
        "wall_s": best["wall"],
        "cpu_s": best["cpu"],
        "map": None,
        "peak_rss_mb": best["maxrss_kb"] / 1024,
    }


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xbench.perf", description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=Problem.queries)
    ap.add_argument("--database", type=int, default=Problem.database)
    ap.add_argument("--bits", type=int, default=Problem.bits)
    ap.add_argument("--labels", type=int, default=Problem.labels)
    ap.add_argument("--topk", type=int, default=Problem.topk, help="R of mAP@R (default 5000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each fast measurement (best is shown)")
    ap.add_argument("--skip-reference", action="store_true", help="time only the fast evaluator")
    ap.add_argument(
        "--skip-cli", action="store_true", help="do not time `xbench evaluate` as a whole process"
    )
    ap.add_argument(
        "--reference-block",
        type=int,
        default=256,
        help="queries per distance block of the reference; 0 = full matrix as peers (~6.7 GB)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of the fast evaluator and BLAS/OpenMP threads of every worker (default 1)",
    )
    ap.add_argument(
        "--cli-threads",
        type=int,
        default=0,
        help="--threads of the whole-process `xbench evaluate` (default: its own default, the usable cores)",
    )
    ap.add_argument("--device", default="cpu", help="cpu, or cuda[:i] to put the fast evaluator's data there")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    ap.add_argument("--worker", choices=["reference", "map", "full"], help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    p = Problem(args.queries, args.database, args.bits, args.labels, args.topk, args.seed)
    if args.worker:
        print(
            json.dumps(
                worker(args.worker, p, args.worker_out, args.reference_block, args.device, args.threads)
            )
        )
        return 0
    load0 = os.getloadavg()[0]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="xbench-perf-") as tmp:
        aps: dict[str, np.ndarray] = {}
        if args.device == "cpu" and not args.skip_cli:
            rows.append(
                min(
                    (whole_process(args, Path(tmp)) for _ in range(max(1, args.repeat))),
                    key=lambda r: r["wall_s"],
                )
            )
            rows.append(startup(args, Path(tmp)))
        kinds = ([] if args.skip_reference else ["reference"]) + ["map", "full"]
        for kind in kinds:
            runs = [
                _spawn(kind, args, Path(tmp) / f"{kind}.npy")
                for _ in range(1 if kind == "reference" else max(1, args.repeat))
            ]
            rows.append(min(runs, key=lambda r: r["wall_s"]))
            aps[kind] = np.load(Path(tmp) / f"{kind}.npy")
    load1 = os.getloadavg()[0]
    labels = {
        "reference": "reference (stable argsort per query)",
        "map": "fast: mAP@R",
        "cli": "whole process: python -m xbench evaluate FILE",
        "startup": "  of which start-up: Python + imports (best of 3)",
        "full": "fast: mAP@R + tie-avg + P@N + R@k + PR(r) + P@H≤2",
    }
    print(
        f"xbench.perf: {p.queries} queries × {p.database} database items, {p.bits} bits, {p.labels} labels, "
        f"R = {p.topk}, seed {p.seed}, device {args.device}, {args.threads} thread(s)"
    )
    print(f"load average (1 min) before/after: {load0:.2f} / {load1:.2f} on {os.cpu_count()} CPUs")
    cli_row = next((r for r in rows if r["kind"] == "cli"), None)
    if cli_row is not None:
        labels["cli"] = f"whole process: xbench evaluate FILE, {cli_row['threads']} thread(s)"
    print(f"{'':52} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'+RSS MB':>9}  mAP@R")
    for r in rows:
        print(
            f"{labels[r['kind']]:52} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} {_fmt(r['peak_rss_mb'], '12.0f')} "
            f"{_fmt(r.get('delta_rss_mb'), '9.0f')}  {'-' if r['kind'] == 'startup' else format(r['map'], '.12f')}"
        )
        if "gpu_peak_mb" in r:
            print(f"{'':52} GPU peak allocated: {r['gpu_peak_mb']:.0f} MB")
    full = next(r for r in rows if r["kind"] == "full")
    print(
        f"tie-averaged mAP@R {full['map_tie_averaged']:.12f}; P@100 {full['precision@100']:.6f}; "
        f"R@100 {full['recall@100']:.6f}; P@H≤2 {full['precision_radius2']:.6f}"
    )
    summary: dict = {
        "problem": p.__dict__,
        "device": args.device,
        "threads": args.threads,
        "load_before": load0,
        "load_after": load1,
        "rows": rows,
    }
    ok = True
    if "reference" in aps:
        ref = next(r for r in rows if r["kind"] == "reference")
        for kind in ("map", "full"):
            diff = float(np.abs(aps[kind] - aps["reference"]).max())
            ratio_w = ref["wall_s"] / next(r for r in rows if r["kind"] == kind)["wall_s"]
            ratio_c = ref["cpu_s"] / next(r for r in rows if r["kind"] == kind)["cpu_s"]
            ok &= diff <= 1e-9
            summary[f"{kind}_max_abs_diff"] = diff
            summary[f"{kind}_speedup_wall"], summary[f"{kind}_speedup_cpu"] = ratio_w, ratio_c
            print(
                f"{labels[kind]:52} speed-up ×{ratio_w:.1f} (wall), ×{ratio_c:.1f} (cpu); "
                f"max |ΔAP| vs reference {diff:.1e} {'OK' if diff <= 1e-9 else 'MISMATCH'}"
            )
        cli = next((r for r in rows if r["kind"] == "cli"), None)
        if cli is not None:
            diff = abs(cli["map"] - float(aps["reference"].mean()))
            ratio_w, ratio_c = ref["wall_s"] / cli["wall_s"], ref["cpu_s"] / cli["cpu_s"]
            ok &= diff <= 1e-12
            summary["cli_map_abs_diff"] = diff
            summary["cli_speedup_wall"], summary["cli_speedup_cpu"] = ratio_w, ratio_c
            print(
                f"{labels['cli']:52} speed-up ×{ratio_w:.1f} (wall), ×{ratio_c:.1f} (cpu) over the reference's "
                f"compute; |ΔmAP| {diff:.1e} {'OK' if diff <= 1e-12 else 'MISMATCH'} (goal ≥ ×27); "
                f"peak RSS {cli['peak_rss_mb']:.0f} MB (goal ≤ 1024)"
            )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
