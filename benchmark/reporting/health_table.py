"""Code health against LSH, one row per run: ``python -m xbench.reporting.health_table RESULTS``.

Prints a Markdown table of every successful run under RESULTS: I→T / T→I mAP, the margin over
``lsh`` on the same dataset, options, code length, noise and seed (the smaller of the two
tasks' margins; "—" without an ``lsh`` run), the distinct database codes per modality as a share
of the database, the larger of the two database bit balances, and whether the run meets issue
14's target (≥ 10 % distinct database codes in each modality and ≥ 0.05 mAP over LSH). The
figures behind the tables of docs/health.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from xbench.reporting import results

TARGET_DISTINCT, TARGET_MARGIN = 0.10, 0.05


def _key(rec: results.RunRecord) -> tuple:
    return (rec.dataset, json.dumps(rec.dataset_options, sort_keys=True), rec.bits, rec.noise, rec.seed)


def _map(rec: results.RunRecord, task: str) -> float | None:
    t = rec.tasks.get(task)
    return None if t is None else t.map


def rows(folder: str | Path) -> list[dict]:
    """One dict per successful run (see the module docstring), sorted by dataset, options, bits, noise."""
    ok = [r for r in results.scan(folder).records if r.ok]
    lsh = {_key(r): r for r in ok if r.method == "lsh"}
    out = []
    for rec in sorted(ok, key=lambda r: (*_key(r), r.method)):
        maps = [_map(rec, t) for t in ("i2t", "t2i")]
        base = lsh.get(_key(rec))
        margin = None
        if base is not None and None not in maps:
            margin = min(m - b for m, b in zip(maps, (_map(base, "i2t"), _map(base, "t2i")), strict=True))
        db = (rec.health.get("sets") or {}).get("database", {})
        distinct = [db.get(m, {}).get("distinct_fraction") for m in ("image", "text")]
        balance = max((db.get(m, {}).get("bit_balance") or 0.0) for m in ("image", "text")) if db else None
        healthy = None not in distinct and min(distinct) >= TARGET_DISTINCT
        meets = rec.method == "lsh" or (healthy and margin is not None and margin >= TARGET_MARGIN)
        out.append(
            {
                "dataset": rec.dataset,
                "options": ",".join(f"{k}={v}" for k, v in sorted(rec.dataset_options.items())),
                "method": rec.method,
                "bits": rec.bits,
                "noise": rec.noise,
                "seed": rec.seed,
                "i2t": maps[0],
                "t2i": maps[1],
                "margin": margin,
                "distinct_image": distinct[0],
                "distinct_text": distinct[1],
                "balance": balance,
                "meets": bool(meets),
            }
        )
    return out


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def markdown(table: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| dataset | options | method | bits | noise | I→T | T→I | vs LSH | distinct db img / txt | balance | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        distinct = f"{_num(r['distinct_image'], '.1%')} / {_num(r['distinct_text'], '.1%')}"
        lines.append(
            f"| {r['dataset']} | {r['options'] or '—'} | {r['method']} | {r['bits']} | {r['noise']} | "
            f"{_num(r['i2t'], '.3f')} | {_num(r['t2i'], '.3f')} | {_num(r['margin'], '+.3f')} | {distinct} | "
            f"{_num(r['balance'], '.2f')} | {'yes' if r['meets'] else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m xbench.reporting.health_table RESULTS_FOLDER", file=sys.stderr)
        return 2
    print(markdown(rows(args[0])))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
