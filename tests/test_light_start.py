"""An instant CLI (issue 13 item 4): what `import xbench.cli`, `--help`, `--version`, `xbench list noise|datasets`
and `xbench evaluate` load, and that seeding sets torch's deterministic flag without importing
``torch._inductor``. (`xbench list` and `list methods`: tests/test_method_catalog.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

HEAVY = ("torch", "pandas", "matplotlib", "scipy", "seaborn", "sklearn", "ot", "joblib", "h5py")


def _loaded_after(code: str) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which heavy modules ended up in ``sys.modules``."""
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _cli(args: list[str]) -> str:
    return (
        "from xbench.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
    )


def test_import_cli_loads_no_heavy_module():
    loaded = _loaded_after("import xbench.cli")
    assert not any(loaded.values()), loaded


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["run", "--help"],
        ["evaluate", "--help"],
        ["list", "noise"],
        ["list", "datasets"],
    ],
)
def test_help_and_version_load_no_heavy_module(args):
    loaded = _loaded_after(_cli(args))
    assert not any(loaded.values()), loaded


def test_probe_sees_a_heavy_import():
    """The probe itself can fail: importing the methods wing (which needs torch) is seen."""
    assert _loaded_after("import xbench.methods")["torch"]


def test_evaluate_runs_on_numpy_alone(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "codes.npz"
    np.savez(
        path,
        query_codes=rng.choice([-1, 1], (6, 16)),
        db_codes=rng.choice([-1, 1], (40, 16)),
        query_labels=rng.integers(0, 2, (6, 5)),
        db_labels=rng.integers(0, 2, (40, 5)),
    )
    out = tmp_path / "out.json"
    loaded = _loaded_after(_cli(["evaluate", str(path), "--topk", "10", "-o", str(out)]))
    assert not any(loaded.values()), loaded
    result = json.loads(out.read_text())
    from xbench.evaluating import metrics

    data = np.load(path)
    expected = metrics.mean_average_precision(
        data["query_codes"], data["db_codes"], data["query_labels"], data["db_labels"], topk=10
    )
    assert result["map"] == pytest.approx(expected, abs=1e-12)


def test_numpy_histograms_equal_a_direct_count():
    """The numpy path's per-row histogram (one bincount over row-offset keys) against np.add.at."""
    from xbench.evaluating.metrics import _bincount_rows

    rng = np.random.default_rng(1)
    # uint8 rows take the adjacent-pairs path (an odd row's last key alone); uint16 keys the row-offset path
    for dtype, nbins, width in ((np.uint8, 130, 334), (np.uint8, 130, 333), (np.uint16, 514, 334)):
        keys = rng.integers(0, nbins, (5, width)).astype(dtype)
        out = np.empty((5, nbins), np.int64)
        _bincount_rows(keys, nbins, out, np.empty(keys.shape, np.intp))
        expected = np.zeros((5, nbins), np.int64)
        np.add.at(expected, (np.repeat(np.arange(5), width), keys.reshape(-1).astype(np.int64)), 1)
        np.testing.assert_array_equal(out, expected)


def test_seeding_is_deterministic_without_inductor():
    code = (
        "from xbench.running.runner import seed_everything\nseed_everything(0)\nimport torch\n"
        "print(torch.are_deterministic_algorithms_enabled(), "
        "torch.is_deterministic_algorithms_warn_only_enabled(), 'torch._inductor' in sys.modules)"
    )
    res = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True, check=True
    )
    assert res.stdout.split() == ["True", "True", "False"]


def test_evaluate_threads_do_not_change_the_result(cli, tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "codes.npz"
    np.savez(
        path,
        query_codes=rng.choice([-1, 1], (90, 24)),
        db_codes=rng.choice([-1, 1], (20000, 24)),
        query_labels=rng.integers(0, 2, (90, 4)),
        db_labels=rng.integers(0, 2, (20000, 4)),
    )
    outs = []  # 2^19 pairs a tile → 26 queries a tile: several blocks, so the threads really split the work
    for threads in ("1", "3"):
        res = cli("evaluate", path, "--topk", "50", "--threads", threads)
        assert res.exit_code == 0, res.output
        outs.append(json.loads(res.output))
    assert outs[0] == outs[1]
    assert cli("evaluate", path, "--threads", "0").exit_code == 2
