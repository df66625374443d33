"""`xbench data check` and `xbench data extract` (ResNet-18 with --weights none on tiny images)."""

from __future__ import annotations

import json

import numpy as np
import torch
import torchvision
from click.testing import CliRunner

from xbench import datasets
from xbench.cli.data import data as data_group
from xbench.cli.data import parse_options
from xbench.datasets.extract import IMAGENET_MEAN, IMAGENET_STD, preprocess_images
from xbench.datasets.splits import read_split_file
from xbench.datasets.testing import make_arrays, write_dcmh_split_files, write_wikipedia


def invoke(*args: str):
    return CliRunner().invoke(data_group, [str(a) for a in args], catch_exceptions=False)


def assert_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for f in fragments:
        assert f in lines[0], lines[0]


def test_parse_options():
    assert parse_options(["seed=3", "image=features", "x=0.5", "flag=true", "k=none"]) == {
        "seed": 3,
        "image": "features",
        "x": 0.5,
        "flag": True,
        "k": None,
    }


def test_check_prints_the_summary(tmp_path):
    write_wikipedia(tmp_path / "wikipedia")
    result = invoke("check", "wikipedia", "--data-root", tmp_path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "items:    17 (standard release: 2866)" in out
    assert "split:    query 5 / train 12 / database 12" in out and "protocol train-in-database" in out
    assert (
        "labels:   10 classes, single-label; labels per item: mean 1.00, min 1, max 1; empty labels: 0" in out
    )
    assert "image:    features, 8-d" in out and "text:     dense features, 4-d; empty text: 0" in out
    assert "mAP@R:    R = all" in out and "warning:  17 items, but the standard release has 2,866" in out
    labels = datasets.load("wikipedia", tmp_path).labels
    art = next(ln for ln in out.splitlines() if ln.strip().startswith("art ")).split()
    assert [int(x) for x in art[1:]] == [
        labels[:, 0].sum(),
        labels[12:, 0].sum(),
        labels[:12, 0].sum(),
        labels[:12, 0].sum(),
    ]


def test_check_json_and_write_split(tmp_path):
    write_dcmh_split_files(tmp_path / "mirflickr25k", make_arrays(30))
    out = tmp_path / "split.npz"
    result = invoke(
        "check",
        "mirflickr25k",
        "--data-root",
        tmp_path,
        "-o",
        "num_query=4",
        "-o",
        "num_train=10",
        "--write-split",
        out,
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["split_sizes"] == {"query": 4, "train": 10, "database": 26}
    assert (
        summary["image_kind"] == "images" and summary["image_shape"] == [3, 6, 5] and summary["lazy_images"]
    )
    split = read_split_file(out, 30)
    assert split.checksum() == summary["split_checksum"] and split.protocol == "train-in-database"
    result = invoke(
        "check",
        "mirflickr25k",
        "--data-root",
        tmp_path,
        "-o",
        "num_query=4",
        "-o",
        "num_train=10",
        "--split-file",
        out,
    )
    assert result.exit_code == 0 and "query 4 / train 10 / database 26" in result.output


def test_check_errors_are_one_line_exit_2(tmp_path):
    assert_error(
        invoke("check", "mirflickr25k", "--data-root", tmp_path),
        "files not found in",
        "mirflickr25k-lall.mat",
        "FLICKR-25K.mat",
        "jiangqy/DCMH-CVPR2017",
    )
    assert_error(invoke("check", "nosuch"), "unknown dataset 'nosuch'")
    assert_error(invoke("check", "wikipedia", "-o", "seed"), "--dataset-option 'seed': expected KEY=VALUE")
    write_wikipedia(tmp_path / "wikipedia")
    np.savez(tmp_path / "bad.npz", query=[0, 1], train=[2], database=[1, 3])
    assert_error(
        invoke("check", "wikipedia", "--data-root", tmp_path, "--split-file", tmp_path / "bad.npz"),
        "both query and database",
    )
    np.savez(tmp_path / "range.npz", query=[0, 99], train=[2], database=[3])
    assert_error(
        invoke("check", "wikipedia", "--data-root", tmp_path, "--split-file", tmp_path / "range.npz"),
        "out of range for 17 items",
    )


# --------------------------------------------------------------------------------------------- extract
def test_preprocess_matches_the_definitions():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2, 3, 224, 224), dtype=np.uint8)
    out = preprocess_images(x)
    ref = (x / 255.0 - np.array(IMAGENET_MEAN).reshape(1, 3, 1, 1)) / np.array(IMAGENET_STD).reshape(
        1, 3, 1, 1
    )
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-5)
    y = rng.integers(0, 256, (1, 3, 256, 300), dtype=np.uint8)  # shorter side already 256: crop only
    out = preprocess_images(y)
    assert tuple(out.shape) == (1, 3, 224, 224)
    crop = y[:, :, 16:240, 38:262] / 255.0
    np.testing.assert_allclose(
        out.numpy(),
        (crop - np.array(IMAGENET_MEAN).reshape(1, 3, 1, 1)) / np.array(IMAGENET_STD).reshape(1, 3, 1, 1),
        atol=1e-5,
    )
    from xbench.methods.networks import (
        ImagePreprocess,  # "resize" = what the methods' raw-image net does
    )

    z = torch.from_numpy(rng.integers(0, 256, (2, 3, 40, 30), dtype=np.uint8))
    np.testing.assert_allclose(
        preprocess_images(z, "resize").numpy(), ImagePreprocess()(z).numpy(), atol=1e-5
    )


def _reference_features(images: np.ndarray, model: torch.nn.Module) -> np.ndarray:
    model.fc = torch.nn.Identity()
    with torch.no_grad():
        return model.eval()(preprocess_images(images)).numpy()


def test_extract_with_random_weights_writes_a_loadable_features_file(tmp_path):
    arr = make_arrays(5, classes=3, vocab=4)
    np.savez(tmp_path / "tiny.npz", image=arr["images"], text=arr["text"], labels=arr["labels"])
    out = tmp_path / "feats.npz"
    result = invoke(
        "extract",
        "--dataset",
        f"files:{tmp_path / 'tiny.npz'}",
        "--weights",
        "none",
        "--out",
        out,
        "--batch-size",
        "2",
        "--device",
        "cpu",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert "wrote 5×512 resnet18 features (none weights, imagenet preprocessing)" in result.output
    with np.load(out) as z:
        feats = z["features"]
        assert int(z["num_items"]) == 5 and str(z["weights"]) == "none" and str(z["backbone"]) == "resnet18"
    torch.manual_seed(0)
    ref = _reference_features(arr["images"], torchvision.models.resnet18(weights=None))
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-5)
    data = datasets.load(f"files:{tmp_path / 'tiny.npz'}", image=str(out), num_query=1, num_train=2)
    assert data.image_kind == "features" and data.image_dim == 512
    np.testing.assert_array_equal(data.image, feats)
    assert_error(
        invoke("extract", "--dataset", f"files:{tmp_path / 'tiny.npz'}", "--weights", "none", "--out", out),
        "already exists (use --force to overwrite)",
    )


def test_extract_from_a_checkpoint_into_the_dataset_folder(tmp_path):
    arr = make_arrays(8)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    torch.manual_seed(7)
    model = torchvision.models.resnet18(weights=None)
    torch.save(model.state_dict(), tmp_path / "ckpt.pt")
    result = invoke(
        "extract",
        "--dataset",
        "mirflickr25k",
        "--data-root",
        tmp_path,
        "--weights",
        tmp_path / "ckpt.pt",
        "--batch-size",
        "5",
        "-o",
        "num_query=2",
        "-o",
        "num_train=3",
        "-q",
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "mirflickr25k" / "features" / "resnet18-ckpt.npz"
    with np.load(out) as z:
        feats = z["features"]
    np.testing.assert_allclose(
        feats[[0, 7]], _reference_features(arr["images"][[0, 7]], model), rtol=1e-4, atol=1e-5
    )
    result = invoke(
        "check",
        "mirflickr25k",
        "--data-root",
        tmp_path,
        "-o",
        "image=features",
        "-o",
        "num_query=2",
        "-o",
        "num_train=3",
    )
    assert result.exit_code == 0 and "image:    features, 512-d" in result.output


def test_extract_errors(tmp_path):
    np.savez(tmp_path / "f.npz", image=np.ones((4, 3)), text=np.ones((4, 2)), labels=np.eye(2)[[0, 1, 0, 1]])
    name = f"files:{tmp_path / 'f.npz'}"
    assert_error(
        invoke("extract", "--dataset", name, "--weights", "none", "--out", tmp_path / "o.npz"),
        "already features (3-d)",
    )
    assert_error(invoke("extract", "--dataset", name, "--weights", "none"), "--out is required")
    assert_error(invoke("extract", "--dataset", name, "--out", tmp_path / "o.h5"), "must end in .npz")
    arr = make_arrays(3, classes=2, vocab=2)
    np.savez(tmp_path / "i.npz", image=arr["images"], text=arr["text"], labels=arr["labels"])
    assert_error(
        invoke(
            "extract",
            "--dataset",
            f"files:{tmp_path / 'i.npz'}",
            "--weights",
            tmp_path / "no.pt",
            "--out",
            tmp_path / "o.npz",
        ),
        "--weights",
        "no such file",
    )
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert_error(
        invoke(
            "extract",
            "--dataset",
            f"files:{tmp_path / 'i.npz'}",
            "--weights",
            tmp_path / "junk.pt",
            "--out",
            tmp_path / "o.npz",
        ),
        "not a usable ResNet-18 checkpoint",
    )
    assert_error(
        invoke(
            "extract",
            "--dataset",
            f"files:{tmp_path / 'i.npz'}",
            "--batch-size",
            "0",
            "--out",
            tmp_path / "o.npz",
        ),
        "--batch-size",
    )
    assert not (tmp_path / "o.npz").exists()
