"""The results layer (xbench.reporting.results): typed records, the DataFrame, damaged files, the one reader,
the atomic writer, `check --tolerance`, and Table 2 under several noise settings side by side."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from xbench import atomic
from xbench.cli import main
from xbench.errors import XbenchError
from xbench.reporting import results
from xbench.reporting.results import (
    Damaged,
    ResultWarning,
    load,
    load_runs,
    normalise_noise,
    read_run,
)
from xbench.reporting.tables import table2_by_noise

try:
    from test_report_fixtures import make_run, table_results
except ImportError:  # pragma: no cover
    from .test_report_fixtures import make_run, table_results

PACKAGE = Path(atomic.__file__).resolve().parent  # the core, every room


# ------------------------------------------------------------------------------------ records, frame


def test_record_is_typed_and_unknown_fields_flow_through(tmp_path):
    path = make_run(
        tmp_path, "cmmq", "synthetic", 16, 0.7, 0.6, noise="Symmetric:0.60", seed=3,
        hparams={"mq_weight": 0.5}, resolved={"lr": 0.01}, with_curves=True, losses=True,
    )  # fmt: skip
    doc = json.loads(path.read_text())
    doc["selection"] = {"precision": 0.8, "curve": [1, 2]}  # a field this version does not know
    doc["code_health"] = "ok"
    doc["metrics"]["i2t"]["map_cosine"] = 0.55  # a new per-task scalar
    doc["metrics"]["i2t"]["ap_per_query"] = [0.5, 0.6]  # a new per-task array
    doc["extra"]["selected_epoch"] = 2
    path.write_text(json.dumps(doc))
    rec = read_run(path)
    assert (rec.method, rec.dataset, rec.bits, rec.seed, rec.epochs) == ("cmmq", "synthetic", 16, 3, 3)
    assert rec.noise == "symmetric:0.6" and rec.noise_type == "symmetric" and rec.noise_rate == 0.6
    assert rec.hparams == {"mq_weight": 0.5} and rec.resolved == {"lr": 0.01, "mq_weight": 0.5}
    assert rec.tasks["i2t"].map == 0.7 and rec.tasks["t2i"].map_tie_averaged == pytest.approx(0.599)
    assert rec.tasks["i2t"].topk == 5000 and rec.tasks["i2t"].curve("topn_precision")["n"][0] == 1
    assert rec.tasks["i2t"].values["ap_per_query"] == [0.5, 0.6]
    assert rec.extras == {"selection": {"precision": 0.8, "curve": [1, 2]}, "code_health": "ok"}
    assert set(rec.arrays()) == {"corrupted", "sample_losses_epoch3"}
    frame = load_runs(tmp_path)
    assert list(frame.columns[: len(results.BASE_COLUMNS)]) == list(results.BASE_COLUMNS)
    i2t = frame[frame["task"] == "i2t"].iloc[0]
    assert i2t["map_cosine"] == 0.55 and i2t["selection.precision"] == 0.8 and i2t["code_health"] == "ok"
    assert i2t["extra.selected_epoch"] == 2 and i2t["hp.mq_weight"] == 0.5
    assert i2t["label"] == "CMMQ [mq_weight=0.5]" and i2t["r"] == "5000" and i2t["record"] is not None
    assert i2t["setting"] == "symmetric:0.6" and i2t["hparams"] == '{"mq_weight": 0.5}'
    assert np.isnan(frame[frame["task"] == "t2i"].iloc[0]["map_cosine"])
    assert frame["record"].nunique() == 1 and len(frame.drop_duplicates("record")) == 1  # hashable


def test_failed_run_is_one_row_without_task(tmp_path):
    make_run(tmp_path, "lsh", "synthetic", 16, 0, 0, status="failed", error="RuntimeError: boom")
    frame = load_runs(tmp_path)
    assert (
        len(frame) == 1 and frame["task"].iloc[0] is None and frame["error"].iloc[0] == "RuntimeError: boom"
    )
    (failed,) = results.failed_runs(frame)
    assert failed["error"] == "RuntimeError: boom" and failed["label"] == "LSH"


def test_labels_show_epochs_only_where_they_distinguish_runs(tmp_path):
    make_run(tmp_path, "cmmq", "synthetic", 16, 0.7, 0.6, epochs=3)
    make_run(tmp_path, "cmmq", "synthetic", 16, 0.7, 0.6, epochs=5)
    make_run(tmp_path, "lsh", "synthetic", 16, 0.5, 0.5, epochs=3)
    labels = set(load_runs(tmp_path)["label"])
    assert labels == {"CMMQ (3 ep)", "CMMQ (5 ep)", "LSH"}


@pytest.mark.parametrize(
    ("raw", "norm"),
    [("symmetric:0.60", "symmetric:0.6"), ("Symmetric:0.6", "symmetric:0.6"), ("clean", "none"),
     (None, "none"), ("", "none"), ("symmetric-sample:0.6", "symmetric-sample:0.6"), ("mrl:x", "mrl:x")],
)  # fmt: skip
def test_normalise_noise(raw, norm):
    assert normalise_noise(raw) == norm


# ------------------------------------------------------------------------------------ damaged files

DAMAGED = {
    "unparsable.json": "{not json",
    "config_string.json": lambda d: {**d, "config": "cmmq"},
    "metrics_list.json": lambda d: {**d, "metrics": [0.5]},
    "bits_abc.json": lambda d: {**d, "config": {**d["config"], "bits": "abc"}},
    "map_text.json": lambda d: {**d, "metrics": {**d["metrics"], "i2t": {"map": "high"}}},
    "history_dict.json": lambda d: {**d, "history": {"epoch": 1}},
    "top_list.json": "[1, 2, 3]",
    "seed_float.json": lambda d: {**d, "config": {**d["config"], "seed": 1.5}},
}
REASONS = {
    "unparsable.json": "not valid JSON",
    "config_string.json": "config must be an object, got str",
    "metrics_list.json": "metrics must be an object, got list",
    "bits_abc.json": "config.bits must be an integer, got 'abc'",
    "map_text.json": "metrics.i2t.map must be a number or null, got 'high'",
    "history_dict.json": "history must be a list of objects",
    "top_list.json": "expected a JSON object, got list",
    "seed_float.json": "config.seed must be an integer, got 1.5",
}


def _damage(res: Path) -> dict[str, Path]:
    """Add the files of DAMAGED beside the good runs of ``res``; returns name → path."""
    good = next((res / "runs").rglob("*.json"))
    doc = json.loads(good.read_text())
    out = {}
    for name, how in DAMAGED.items():
        path = good.parent / name
        path.write_text(how if isinstance(how, str) else json.dumps(how(doc)))
        out[name] = path
    (good.parent / "latin1.json").write_bytes(b'{"run_id": "\xe9"}')
    out["latin1.json"] = good.parent / "latin1.json"
    (good.parent / ".tmp-123-abcd.json").write_text("{half")  # an interrupted write: ignored silently
    return out


def test_every_damaged_file_is_named_with_its_reason(tmp_path):
    res = table_results(tmp_path / "res")
    paths = _damage(res)
    found = load(res)
    by_path = {d.path: d.reason for d in found.damaged}
    assert set(by_path) == set(paths.values())
    for name, reason in REASONS.items():
        assert reason in by_path[paths[name]], (name, by_path[paths[name]])
    assert by_path[paths["latin1.json"]] == "not UTF-8 text"
    assert len(found.records) == 7
    with pytest.warns(ResultWarning) as caught:
        frame = load_runs(res)
    assert len(caught) == len(paths) and frame["run_id"].nunique() == 7
    assert all("\n" not in str(w.message) and "skipped damaged result" in str(w.message) for w in caught)


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: skipped damaged result")]


def test_report_plot_baseline_skip_damaged_files_with_one_line_each(tmp_path):
    res = table_results(tmp_path / "res")
    make_run(res, "cmmq", "synthetic", 16, 0.7, 0.6, noise="symmetric:0.6", seed=2, history=True, losses=True)
    paths = _damage(res)
    runner = CliRunner()
    clean = runner.invoke(main, ["report", "--results", str(table_results(tmp_path / "clean"))])
    rep = runner.invoke(main, ["report", "--results", str(res), "--format", "csv"])
    assert rep.exit_code == 0, rep.output
    lines = _warnings(rep.stderr)
    assert len(lines) == len(paths) and all(any(str(p) in line for line in lines) for p in paths.values())
    assert "Traceback" not in rep.output and clean.exit_code == 0
    plot = runner.invoke(
        main, ["plot", "--results", str(res), "--kind", "epochs", "--out", str(tmp_path / "f")]
    )
    assert plot.exit_code == 0, plot.output
    assert len(_warnings(plot.stderr)) == len(paths)
    base = runner.invoke(main, ["baseline", "--results", str(res), "--out", str(tmp_path / "b.json")])
    assert base.exit_code == 0, base.output
    assert len(_warnings(base.stderr)) == len(paths)


def test_check_counts_damaged_files_as_failures(tmp_path):
    res = table_results(tmp_path / "res")
    runner = CliRunner()
    base = tmp_path / "b.json"
    assert runner.invoke(main, ["baseline", "--results", str(res), "--out", str(base)]).exit_code == 0
    ok = runner.invoke(main, ["check", "--results", str(res), "--baseline", str(base)])
    assert ok.exit_code == 0 and "PASSED" in ok.stdout and "0 damaged result file(s)" in ok.stdout
    paths = _damage(res)
    bad = runner.invoke(main, ["check", "--results", str(res), "--baseline", str(base)])
    assert bad.exit_code == 1, bad.output
    damaged = [line for line in bad.stdout.splitlines() if line.startswith("DAMAGED")]
    assert len(damaged) == len(paths)
    assert any(str(paths["bits_abc.json"]) in line and "config.bits" in line for line in damaged)
    assert "FAILED: 6 baseline cell(s): 6 ok" in bad.stdout and f"; {len(paths)} damaged" in bad.stdout


def test_only_damaged_files_is_a_clear_error(tmp_path):
    res = tmp_path / "res" / "runs" / "synthetic" / "lsh"
    res.mkdir(parents=True)
    (res / "a.json").write_text("{")
    rep = CliRunner().invoke(main, ["report", "--results", str(tmp_path / "res")])
    assert rep.exit_code == 2 and "1 damaged file(s) skipped" in rep.output
    assert len(_warnings(rep.stderr)) == 1


def test_damaged_npz_skipped_by_loss_histogram(tmp_path):
    res = tmp_path / "res"
    for seed in (0, 1):
        make_run(res, "cmmq", "synthetic", 16, 0.7, 0.6, seed=seed, losses=True)
    npz = sorted((res / "runs").rglob("*.npz"))
    npz[0].write_bytes(b"PK\x03\x04 broken")
    npz[1].write_bytes(b"PK\x03\x04 broken")
    doc = json.loads(npz[0].with_suffix(".json").read_text())
    doc.pop("arrays_sha256", None)  # as stored by a version that did not record it: the archive is opened
    npz[0].with_suffix(".json").write_text(json.dumps(doc))
    out = CliRunner().invoke(
        main, ["plot", "--results", str(res), "--kind", "loss-hist", "--out", str(tmp_path / "f")]
    )
    assert out.exit_code == 2 and "no run stores per-sample losses" in out.output
    lines = _warnings(out.stderr)
    assert len(lines) == 2
    assert any(f"{npz[0]}: unreadable array file (BadZipFile" in line for line in lines)
    assert any(f"{npz[1]}: not the array file this run stored" in line for line in lines)
    rec = read_run(npz[0].with_suffix(".json"))
    with pytest.raises(results.DamagedResult, match=r"\.npz: unreadable array file"):
        rec.arrays()


def test_array_file_of_another_run_is_refused(tmp_path):
    import hashlib

    path = make_run(tmp_path, "cmmq", "synthetic", 16, 0.7, 0.6, losses=True)
    npz = path.with_suffix(".npz")
    doc = json.loads(path.read_text())
    doc["arrays_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    path.write_text(json.dumps(doc))
    assert set(read_run(path).arrays()) == {"corrupted", "sample_losses_epoch3"}
    np.savez_compressed(npz, corrupted=np.zeros(3, bool))  # another run's arrays under this name
    with pytest.raises(results.DamagedResult, match="not the array file this run stored"):
        read_run(path).arrays()


# ------------------------------------------------------------------------------------ check --tolerance


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf", "-0.1", "abc"])
def test_check_refuses_a_bad_tolerance(tmp_path, bad):
    res = table_results(tmp_path / "res")
    base = tmp_path / "b.json"
    CliRunner().invoke(main, ["baseline", "--results", str(res), "--out", str(base)])
    out = CliRunner().invoke(
        main, ["check", "--results", str(res), "--baseline", str(base), "--tolerance", bad]
    )
    assert out.exit_code == 2, out.output
    assert out.output.count("\n") == 1 and out.output.startswith("Error: --tolerance:")


def test_compare_refuses_nan_tolerance_directly(tmp_path):
    from xbench.reporting.check import compare, make_baseline

    frame = load_runs(table_results(tmp_path / "res"))
    with pytest.raises(XbenchError, match="--tolerance"):
        compare(frame, make_baseline(frame), float("nan"))


# ------------------------------------------------------------------------------------ Table 2 layouts


def _noise_results(res: Path) -> Path:
    """cmmq ahead of dcmh under symmetric:0.6 (I→T), behind under symmetric-sample:0.6."""
    for seed in (0, 1):
        make_run(res, "cmmq", "synthetic", 16, 0.70 + 0.02 * seed, 0.60, noise="symmetric:0.6", seed=seed)
        make_run(res, "dcmh", "synthetic", 16, 0.65, 0.62, noise="symmetric:0.6", seed=seed)
        make_run(res, "cmmq", "synthetic", 16, 0.50, 0.50, noise="symmetric-sample:0.6", seed=seed)
        make_run(res, "dcmh", "synthetic", 16, 0.55, 0.52, noise="symmetric-sample:0.6", seed=seed)
    make_run(res, "cmmq", "synthetic", 32, 0.40, 0.40, noise="symmetric-sample:0.6")
    make_run(res, "cmmq", "synthetic", 16, 0.80, 0.80, noise="none")
    return res


def test_table2_by_noise_side_by_side_with_rankings(tmp_path):
    frame = load_runs(_noise_results(tmp_path / "r"))
    frame = frame[frame["noise"] != "none"]
    (t,) = table2_by_noise(frame)
    assert t.header == [
        [("symmetric:0.6", 1), ("symmetric-sample:0.6", 2)],
        [("synthetic", 1), ("synthetic", 2)],
    ]
    assert t.leaves == ["16 bits", "16 bits", "32 bits"]
    rows = {
        (stub[0] or "", stub[1]): [None if c is None else (round(c.mean, 3), c.bold) for c in cells]
        for block in t.blocks
        for stub, cells in block
    }
    assert rows[("I→T", "DCMH")] == [(0.65, False), (0.55, True), None]
    assert rows[("", "CMMQ")] == [(0.6, False), (0.5, False), (0.4, False)]  # T→I block
    i2t, t2i = (n for n in t.notes if n.startswith("Ranking"))
    # ranked on the one column both settings have (synthetic 16 bits); 32 bits is not shared
    assert (
        "symmetric:0.6: CMMQ (0.710) > DCMH (0.650); symmetric-sample:0.6: DCMH (0.550) > CMMQ (0.500)" in i2t
    )
    assert i2t.endswith("The ranking DIFFERS.")
    assert t2i.endswith("The ranking is the same under every setting.")
    assert "symmetric-sample label noise" in t.caption


def test_report_layout_table2_noise_cli(tmp_path):
    res = _noise_results(tmp_path / "r")
    out = CliRunner().invoke(
        main,
        [
            "report",
            "--results",
            str(res),
            "--layout",
            "table2-noise",
            "--noise",
            "symmetric:0.6,Symmetric-Sample:0.60",
        ],
    )
    assert out.exit_code == 0, out.output
    assert (
        "| Task | Method | symmetric:0.6 synthetic 16 bits | symmetric-sample:0.6 synthetic 16 bits |"
        in out.stdout
    )
    assert "| I→T | DCMH | 0.650 ± 0.000 (2) | **0.550** ± 0.000 (2) |" in out.stdout
    assert "The ranking DIFFERS." in out.stdout
    one = CliRunner().invoke(
        main, ["report", "--results", str(res), "--layout", "table2-noise", "--noise", "none"]
    )
    assert one.exit_code == 2 and "needs two or more" in one.output


def test_report_without_options_is_table2_of_results(tmp_path, monkeypatch):
    table_results(tmp_path / "results")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["report"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert "| Task | Method | synthetic 16 bits | synthetic 32 bits |" in lines
    assert "| I→T | LSH | 0.560 ± 0.014 | — |" in lines and "| T→I | LSH | **0.620** ± 0.014 | — |" in lines
    helptext = CliRunner().invoke(main, ["report", "--help"]).stdout
    assert "Without options: the CMMQ paper's Table 2 layout" in " ".join(helptext.split())


# ------------------------------------------------------------------------------------ one reader, one writer


def _sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): p.read_text() for p in PACKAGE.rglob("*.py")}


def test_no_module_but_the_results_layer_reads_result_files():
    """Only results.py scans a results folder or reads run files; the other readers are listed with
    what they read (none of them a run result)."""
    readers = re.compile(r"rglob\(|json\.load\(|json\.loads\(.*read_text|np\.load\(|load_arrays|iter_results")
    allowed = {
        "reporting/results.py": "the results layer",
        "running/store.py": "is_done: the status of a file the store itself wrote (resume)",
        "reporting/check.py": "read_baseline: the baseline file, not a run result",
        "cli/evaluate.py": "the user's codes .npz",
        "perf/evaluator.py": "its own benchmark's temporary files",
        "perf/gpu.py": "its own benchmark's temporary files",
        "running/claims.py": "claim files and stale temp files of interrupted writes, not run results",
        "running/preflight.py": "whether the folders under runs/ are writable (reads no file)",
    }
    offenders = {name for name, text in _sources().items() if readers.search(text)} - set(allowed)
    assert not offenders, (
        f"modules reading result files outside xbench.reporting.results: {sorted(offenders)}"
    )
    # and inside the allowed ones, no scanning of a results folder but in results.py
    scanners = {n for n, text in _sources().items() if re.search(r"glob\(", text)}
    # reference.py: the published-number CSVs; claims.py: stale temp files; preflight.py: whether the
    # folders under runs/ are writable (it reads no file)
    assert scanners <= {
        "reporting/results.py",
        "reporting/reference.py",
        "running/claims.py",
        "running/preflight.py",
    }, scanners
    for name in ("TASKS = ", "def resolve_topk", "def normalise_noise", "def atomic_write"):
        defs = [n for n, text in _sources().items() if re.search(rf"^{re.escape(name)}", text, re.MULTILINE)]
        assert len(defs) <= 1, (name, defs)


def test_no_umask_flip_and_one_atomic_writer():
    sources = _sources()
    assert not [n for n, text in sources.items() if "os.umask(" in text]
    writers = [n for n, text in sources.items() if "mkstemp" in text or re.search(r"os\.replace\(", text)]
    assert writers == ["atomic.py"], writers


def test_atomic_write_permissions_and_failure_leaves_old_file(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic.atomic_write_text(target, "one")
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.read_text() == "one" and stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "one" and sorted(p.name for p in target.parent.iterdir()) == ["f.json"]


def test_damaged_is_one_line():
    d = Damaged(Path("runs/x/y/z.json"), "config.bits must be an integer, got 'abc'")
    assert str(d) == "skipped damaged result runs/x/y/z.json: config.bits must be an integer, got 'abc'"


def test_npz_bytes_is_a_deflated_npz_that_np_load_reads_back_exactly(tmp_path):
    """The store writes its own .npz (zlib level 1); the arrays come back with dtype, shape and values."""
    import io
    import zipfile

    from xbench.running.store import npz_bytes

    rng = np.random.default_rng(0)
    arrays = {
        "db_text": np.where(rng.random((37, 24)) < 0.5, 1, -1).astype(np.int8),
        "corrupted": rng.random(11) < 0.3,
        "per_query_i2t_ap": rng.random(9),
        "train_index": np.arange(5, dtype=np.int64),
        "scalar": np.float32(2.5),
    }
    data = npz_bytes(arrays)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert {i.filename for i in infos} == {f"{k}.npy" for k in arrays}
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
    with np.load(io.BytesIO(data), allow_pickle=False) as back:
        assert sorted(back.files) == sorted(arrays)
        for key, value in arrays.items():
            got = back[key]
            assert got.dtype == np.asarray(value).dtype and got.shape == np.shape(value)
            np.testing.assert_array_equal(got, value)
