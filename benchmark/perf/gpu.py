"""GPU figures: ``python -m xbench.perf.gpu [--device cuda] [--parts eval,grid,images] [--small]``.

A benchmark script, not a test. It prints three measurements:

* **eval** — the evaluator with the codes on the device, on the NUS-WIDE-sized problem of
  :mod:`xbench.perf` (2,100 queries × 188,000 items × 64 bits, mAP@5000), against the plain
  per-query stable-argsort reference on the CPU (same per-query APs to 1e-9 is checked);
* **grid** — the Table 2 grid (every method, 32/64/128 bits, ``symmetric:0.6``) in features mode
  on ``synthetic`` at NUS-WIDE scale (2,100 queries, 10,500 training pairs, 193,734 database
  items), run through ``xbench run`` on the device: wall seconds per method;
* **images** — raw-image training throughput of ResNet-18 (images/s): uint8 images on the device,
  converted and normalised there, bf16 autocast, channels_last, SGD step per batch.

``--small`` shrinks every problem so that the script runs in a minute on a CPU (that is how the
test suite and a machine without a GPU exercise it); its figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUS_SCALE = {"num_items": 195_834, "num_query": 2_100, "num_train": 10_500}
SMALL_SCALE = {"num_items": 1_200, "num_query": 100, "num_train": 400}


def measure_eval(device: str, small: bool) -> dict:
    """Evaluator on the device against the CPU reference (both via :mod:`xbench.perf`)."""
    import numpy as np

    from xbench.perf import evaluator as perf

    p = perf.Problem(queries=200, database=20_000, topk=1000) if small else perf.Problem()
    args = argparse.Namespace(
        queries=p.queries,
        database=p.database,
        bits=p.bits,
        labels=p.labels,
        topk=p.topk,
        seed=p.seed,
        reference_block=256,
        threads=1,
        device="cpu",
    )
    with tempfile.TemporaryDirectory() as tmp:
        ref = perf._spawn("reference", args, Path(tmp) / "ref.npy")
        args.device = device
        fast = perf._spawn("map", args, Path(tmp) / "fast.npy")
        diff = float(np.abs(np.load(Path(tmp) / "ref.npy") - np.load(Path(tmp) / "fast.npy")).max())
    return {
        "problem": f"{p.queries}x{p.database}x{p.bits}b R={p.topk}",
        "reference_s": ref["wall_s"],
        "device_s": fast["wall_s"],
        "speedup": ref["wall_s"] / fast["wall_s"],
        "max_abs_diff": diff,
        "gpu_peak_mb": fast.get("gpu_peak_mb"),
    }


def measure_grid(device: str, small: bool, methods: str) -> dict:
    """The Table 2 grid on ``synthetic`` at NUS-WIDE scale, one ``xbench run`` per method."""
    scale = SMALL_SCALE if small else NUS_SCALE
    bits = "32" if small else "32,64,128"
    out: dict = {"scale": scale, "bits": bits, "seconds": {}}
    names = methods.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            cmd = [
                sys.executable,
                "-m",
                "xbench",
                "run",
                "--methods",
                name,
                "--datasets",
                "synthetic",
                "--bits",
                bits,
                "--noise",
                "symmetric:0.6",
                "--results",
                tmp,
                "--device",
                device,
                "--quiet",
            ]
            cmd += [arg for key, value in scale.items() for arg in ("--dataset-option", f"{key}={value}")]
            if small:
                cmd += ["--epochs", "1"]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
                raise SystemExit(f"perf_gpu: grid run of {name} failed (exit {proc.returncode}): {tail[0]}")
            out["seconds"][name] = seconds
    out["total_s"] = sum(out["seconds"].values())
    return out


def measure_images(device: str, small: bool, batch: int, steps: int) -> dict:
    """ResNet-18 training throughput on uint8 images kept on the device."""
    import torch
    from torch import nn

    from xbench.methods.networks import ImagePreprocess, load_resnet18

    dev = torch.device(device)
    size = 64 if small else 224
    batch = min(batch, 16) if small else batch
    steps = min(steps, 3) if small else steps
    torch.manual_seed(0)
    backbone = load_resnet18("none")
    backbone.fc = nn.Linear(backbone.fc.in_features, 64)
    model = nn.Sequential(ImagePreprocess(size), backbone).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=dev)
    images = images.contiguous(memory_format=torch.channels_last)
    target = torch.randn(batch, 64, device=dev)
    amp = dev.type == "cuda"

    def step() -> None:
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = nn.functional.mse_loss(model(images).float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2 if small else 10):  # warm-up (cuDNN autotuning, allocator)
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {
        "image_size": size,
        "batch": batch,
        "steps": steps,
        "bf16_autocast": amp,
        "images_per_s": batch * steps / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xbench.perf.gpu", description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda[:i] (default), or cpu to try the script")
    ap.add_argument("--parts", default="eval,grid,images", help="comma list of eval, grid, images")
    ap.add_argument(
        "--methods",
        default="lsh,bce,cmmq,cmmq-code,dcmh,prdh,ssah,cmhh,mrl,uot-rcl",
        help="methods of the grid part",
    )
    ap.add_argument("--batch", type=int, default=256, help="batch size of the images part")
    ap.add_argument("--steps", type=int, default=50, help="timed steps of the images part")
    ap.add_argument("--small", action="store_true", help="tiny problems (CPU smoke run; no GPU figures)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - {"eval", "grid", "images"})
    if unknown:
        ap.error(f"--parts: unknown part(s) {', '.join(unknown)}; expected eval, grid, images")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            ap.error(
                f"--device {args.device}: no CUDA device here (use --device cpu --small to try the script)"
            )
    figures: dict = {"device": args.device, "small": args.small}
    if "eval" in parts:
        r = figures["eval"] = measure_eval(args.device, args.small)
        print(
            f"evaluator {r['problem']}: reference (CPU) {r['reference_s']:.2f} s, {args.device} "
            f"{r['device_s']:.3f} s, {r['speedup']:.1f}x, max |dAP| {r['max_abs_diff']:.1e}",
            flush=True,
        )
    if "grid" in parts:
        r = figures["grid"] = measure_grid(args.device, args.small, args.methods)
        per = ", ".join(f"{k} {v:.0f} s" for k, v in r["seconds"].items())
        print(
            f"Table 2 grid, synthetic {r['scale']}, bits {r['bits']}: {r['total_s']:.0f} s ({per})",
            flush=True,
        )
    if "images" in parts:
        r = figures["images"] = measure_images(args.device, args.small, args.batch, args.steps)
        print(
            f"ResNet-18 training, {r['image_size']}px uint8 on {args.device}, batch {r['batch']}, "
            f"bf16 {r['bf16_autocast']}: {r['images_per_s']:.0f} images/s",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
