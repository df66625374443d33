"""The package, its registries (incl. entry-point plugins), the synthetic dataset and CLI errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from xbench import datasets, methods, noise

from .conftest import TINY, tiny_options

REPO = Path(__file__).resolve().parents[1]


def test_editable_layout_maps_folders_into_xbench():
    import xbench.cli

    assert Path(xbench.__file__).parent.name == "benchmark"
    assert Path(methods.__file__).parent.name == "methods"
    assert Path(datasets.__file__).parent.name == "datasets"
    assert Path(noise.__file__).parent.name == "noise"


@pytest.mark.slow
def test_regular_install_imports(tmp_path):
    """`pip install .` (non-editable) yields the same import package (built into a target folder)."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        pip + ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheel_dir.glob("xbench-*.whl"))
    subprocess.run(
        pip + ["install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = textwrap.dedent("""
        import xbench, xbench.methods, xbench.datasets, xbench.noise, xbench.cli
        print(xbench.__file__); print(xbench.methods.__file__)
        print(sorted(xbench.methods.registry.names())[:1])
        import xbench.running.runner, xbench.reporting.reference as ref
        assert (ref.packaged_reference_dir() / "cmmq2022_table2.csv").is_file()
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    ).stdout
    assert str(target) in out.splitlines()[0] and str(target) in out.splitlines()[1]


def test_builtin_registries():
    assert "lsh" in methods.registry.names()
    assert "synthetic" in datasets.registry.names()
    assert "none" in noise.registry.names()
    with pytest.raises(KeyError, match="valid: .*lsh"):
        methods.get("no-such-method")


def test_entry_point_plugin_registers(tmp_path, monkeypatch):
    """A third-party distribution's entry point in group xbench.methods registers its Hasher."""
    pkg = tmp_path / "xb_plugin_demo.py"
    pkg.write_text(
        textwrap.dedent("""
        from xbench.methods.lsh import LSH
        class DemoHasher(LSH):
            name = "demo-plugin"
            description = "plugin test"
    """)
    )
    dist = tmp_path / "xb_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: xb-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[xbench.methods]\ndemo-plugin = xb_plugin_demo:DemoHasher\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(methods.registry, "_plugins_loaded", False)
    try:
        assert "demo-plugin" in methods.registry.names()
        assert methods.get("demo-plugin").__name__ == "DemoHasher"
    finally:
        methods.registry.unregister("demo-plugin")


def test_registry_decorator_and_duplicates():
    reg = datasets.Registry("thing", "xbench.tests.none")
    reg.register("a")(object)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", int)
    assert reg.select("all") == ["a"]
    with pytest.raises(KeyError, match="unknown thing 'b'"):
        reg.select("a,b")


def test_synthetic_is_deterministic_and_seed_dependent():
    a = datasets.load("synthetic", seed=3, **TINY)
    b = datasets.load("synthetic", seed=3, **TINY)
    c = datasets.load("synthetic", seed=4, **TINY)
    for attr in ("image", "text", "labels"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
        assert not np.array_equal(getattr(a, attr), getattr(c, attr))
    assert a.split.checksum() == b.split.checksum() != c.split.checksum()


def test_synthetic_default_statistics():
    d = datasets.load("synthetic")
    assert d.image.shape == (6000, 512) and d.text.shape == (6000, 1000) and d.labels.shape == (6000, 24)
    assert d.image.min() >= 0 and d.text.min() >= 0
    per_item = d.labels.sum(1)
    assert per_item.min() >= 1 and 3.0 < per_item.mean() < 4.0
    freq = d.labels.mean(0)
    assert freq.max() / freq.min() > 4  # skewed class frequencies
    assert (d.text > 0).mean() < 0.05  # sparse bag of words
    s = d.split
    assert len(s.query) == 500 and len(s.train) == 2000
    assert np.isin(s.train, s.database).all() and not np.isin(s.query, s.database).any()


def test_list_commands(cli):
    res = cli("list", "methods")
    assert res.exit_code == 0 and "lsh" in res.output and "bits:" in res.output
    res = cli("list", "datasets")
    assert "synthetic" in res.output
    res = cli("list", "noise")
    assert "none" in res.output
    assert cli("--version").output.startswith("xbench, version ")


@pytest.mark.parametrize(
    "option,value,valid", [("--methods", "nope", "lsh"), ("--datasets", "nope", "synthetic")]
)
def test_unknown_names_exit_2_with_valid_names(cli, tmp_path, option, value, valid):
    args = {"--methods": "lsh", "--datasets": "synthetic"}
    args[option] = value
    res = cli("run", "--methods", args["--methods"], "--datasets", args["--datasets"], "--results", tmp_path)
    assert res.exit_code == 2
    assert f"unknown {option[2:-1]} '{value}'" in res.output and valid in res.output
    assert not (tmp_path / "runs").exists()


def test_run_end_to_end_and_skip(cli, tmp_path):
    args = [
        "run",
        "--methods",
        "all",
        "--bits",
        "8,16",
        "--epochs",
        "2",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    ]
    first = cli(*args)
    assert first.exit_code == 0, first.output
    files = sorted((tmp_path / "runs" / "synthetic").rglob("*.json"))
    n = len(methods.registry.names()) * 2
    assert len(files) == n
    second = cli(*args)
    assert second.exit_code == 0
    assert f"{n} already done, 0 to run" in second.output
    assert sorted((tmp_path / "runs" / "synthetic").rglob("*.json")) == files
