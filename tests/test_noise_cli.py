"""`xbench data noise` and `xbench list noise`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xbench import datasets, noise

SMALL = {
    "num_items": 400,
    "num_query": 50,
    "num_train": 300,
    "image_dim": 8,
    "vocab_size": 30,
    "num_classes": 6,
}


def small_options() -> list[str]:
    out: list[str] = []
    for key, value in SMALL.items():
        out += ["--dataset-option", f"{key}={value}"]
    return out


def test_json_equals_inject_on_training_labels(cli):
    res = cli(
        "data",
        "noise",
        "synthetic",
        "--noise",
        "symmetric:0.6",
        "--seed",
        "4",
        "--format",
        "json",
        *small_options(),
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    data = datasets.load("synthetic", "data", **SMALL)
    clean = data.take("labels", data.split.train)
    expected = noise.inject(clean, "symmetric:0.6", seed=4).stats
    assert report["noise"] == json.loads(json.dumps(expected))
    assert report["dataset"] == "synthetic" and report["train_size"] == 300
    assert report["noise"]["shared"]["num_samples"] == 300


def test_table_shows_statistics_and_matrix(cli):
    res = cli("data", "noise", "synthetic", "--noise", "swap:0.5", *small_options())
    assert res.exit_code == 0, res.output
    out = res.output
    assert "swap:0.5 (seed 0, shared by image and text)" in out
    assert "150 / 300 (0.5000)" in out  # exactly round(0.5·300) corrupted samples
    assert "300 / 1800 (0.1667)" in out  # 2 bits each out of N·C
    assert "bits per corrupted sample" in out and "2.000" in out
    assert "empirical transition matrix" in out
    assert res.output.count("\n  5 ") == 1  # one matrix row per class, class 5 last


def test_table_per_modality_and_no_matrix(cli):
    res = cli(
        "data",
        "noise",
        "synthetic",
        "--noise",
        "asymmetric:0.4",
        "--noise-per-modality",
        "--no-matrix",
        *small_options(),
    )
    assert res.exit_code == 0, res.output
    assert "drawn independently per modality" in res.output
    header = [
        line for line in res.output.splitlines() if line.strip() in ("image                      text",)
    ]
    assert header, res.output
    assert "image/text labels differ" in res.output
    assert "transition" not in res.output.split("image/text labels differ")[1]


def test_json_per_modality(cli):
    res = cli(
        "data",
        "noise",
        "synthetic",
        "--noise",
        "bitflip:0.1",
        "--noise-per-modality",
        "--format",
        "json",
        *small_options(),
    )
    report = json.loads(res.output)["noise"]
    assert set(report) >= {"image", "text", "modality_disagreement_fraction"} and "shared" not in report
    assert report["image"] != report["text"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--noise", "symmetric:1"], "rate must be in [0, 1)"),
        (["--noise", "gaussian:0.2"], "unknown noise model 'gaussian'"),
        (["--noise", "symmetric"], "expected TYPE:RATE"),
        (
            ["--noise", "swap:0.2", "--dataset-option", "num_classes"],
            "--dataset-option 'num_classes': expected KEY=VALUE",
        ),
        (["--noise", "swap:0.2", "--dataset-option", "num_classes=1"], "dataset 'synthetic'"),
    ],
)
def test_errors_exit_2(cli, args, fragment):
    res = cli("data", "noise", "synthetic", *args)
    assert res.exit_code == 2
    assert fragment in res.output
    assert len(res.output.strip().splitlines()) == 1  # one-line message


def test_unknown_dataset_exit_2(cli):
    res = cli("data", "noise", "no-such-data", "--noise", "symmetric:0.2")
    assert res.exit_code == 2 and "unknown dataset 'no-such-data'" in res.output


def test_missing_noise_option_is_usage_error(cli):
    res = cli("data", "noise", "synthetic")
    assert res.exit_code == 2 and "--noise" in res.output


def test_list_noise_shows_definitions(cli):
    res = cli("list", "noise", "--verbose")
    assert res.exit_code == 0
    for name in ("none", "symmetric", "asymmetric", "swap", "bitflip"):
        cls = noise.registry.get(name)
        assert any(line.startswith(f"{name} ") for line in res.output.splitlines())
        assert cls.definition in res.output and cls.used_by in res.output
    assert "ρ/(C−1)" in res.output


def test_same_seed_same_output_different_seed_differs(cli):
    args = ("data", "noise", "synthetic", "--noise", "symmetric:0.4", "--format", "json", *small_options())
    a = json.loads(cli(*args, "--seed", "1").output)
    b = json.loads(cli(*args, "--seed", "1").output)
    c = json.loads(cli(*args, "--seed", "2").output)
    assert a == b
    assert (
        np.array(a["noise"]["shared"]["positive_transition_matrix"]).tolist()
        != np.array(c["noise"]["shared"]["positive_transition_matrix"]).tolist()
    )
