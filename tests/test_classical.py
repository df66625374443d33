"""``cca`` and ``pls``: scikit-learn projections behind the Hasher interface, end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cross_decomposition import CCA, PLSCanonical

from xbench import methods
from xbench.datasets.testing import write_wikipedia
from xbench.methods import ModalityShape, ProblemShape, TrainData
from xbench.running.config import RunConfig
from xbench.running.runner import execute


def _problem(n=300, dx=12, dy=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    x = z @ rng.normal(size=(3, dx)) + 0.3 * rng.normal(size=(n, dx)) + 5.0
    y = z @ rng.normal(size=(3, dy)) + 0.3 * rng.normal(size=(n, dy)) - 2.0
    shape = ProblemShape(
        image=ModalityShape("features", dx),
        text=ModalityShape("features", dy),
        num_classes=3,
        multi_label=False,
        num_train=n,
    )
    labels = torch.nn.functional.one_hot(torch.as_tensor(rng.integers(0, 3, n)), 3).float()
    data = TrainData(
        image=torch.as_tensor(x, dtype=torch.float32),
        text=torch.as_tensor(y, dtype=torch.float32),
        labels=labels,
        noise_rate=0.0,
    )
    return shape, data, x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("name, reference", [("cca", CCA), ("pls", PLSCanonical)])
def test_projections_equal_scikit_learn_with_scaling(name, reference):
    """Our standardise-then-fit equals scikit-learn's own scale=True fit (same scores, same signs)."""
    shape, data, x, y = _problem()
    m = methods.get(name)(shape, 3, **({"solver": "nipals"} if name == "cca" else {}))
    m.fit_epoch(data, 0)
    # cca is compared with its NIPALS solver, pls with its default exact one (scikit-learn's svd)
    ref = reference(n_components=3, scale=True, **({"algorithm": "svd"} if name == "pls" else {})).fit(x, y)
    xs, ys = ref.transform(x, y)
    np.testing.assert_allclose(m.continuous("image", data.image).numpy(), xs, atol=1e-4)
    np.testing.assert_allclose(m.continuous("text", data.text).numpy(), ys, atol=1e-4)
    codes = m.encode("image", data.image)
    assert torch.equal(codes, torch.where(torch.as_tensor(xs) >= 0, 1, -1).to(torch.int8))
    assert m.supervised is False and "label-free" in m.description


def test_cca_closed_form_equals_converged_nipals_up_to_sign_and_scale():
    """solver=svd (default) and scikit-learn's NIPALS give the same canonical variates where NIPALS
    converges, so the same codes up to a per-bit flip shared by both modalities; svd's variates are
    uncorrelated within a view and their correlations are the canonical correlations."""
    shape, data, x, y = _problem()
    exact = methods.get("cca")(shape, 3)
    exact.fit_epoch(data, 0)
    nipals = methods.get("cca")(shape, 3, solver="nipals", max_iter=5000, tol=1e-12)
    nipals.fit_epoch(data, 0)
    for modality in ("image", "text"):
        a = exact.continuous(modality, getattr(data, modality)).double().numpy()
        b = nipals.continuous(modality, getattr(data, modality)).double().numpy()
        for k in range(3):
            assert abs(np.corrcoef(a[:, k], b[:, k])[0, 1]) == pytest.approx(1, abs=1e-6)
        within = np.corrcoef(a.T)
        np.testing.assert_allclose(within, np.eye(3), atol=1e-8)
    fi, ft = (exact.continuous(m, getattr(data, m)).double().numpy() for m in ("image", "text"))
    xs, ys = ((v - v.mean(0)) / v.std(0, ddof=1) for v in (x, y))
    whiten = [np.linalg.inv(np.linalg.cholesky(v.T @ v)).T for v in (xs, ys)]
    rho = np.linalg.svd(whiten[0].T @ xs.T @ ys @ whiten[1], compute_uv=False)[:3]
    got = [np.corrcoef(fi[:, k], ft[:, k])[0, 1] for k in range(3)]
    np.testing.assert_allclose(got, rho, rtol=1e-6)


@pytest.mark.parametrize("dx, dy", [(12, 6), (5, 9)])
def test_pls_closed_form_equals_scikit_learn(dx, dy):
    """solver=svd (default): the exact singular pairs and the rank-one updates of XᵀY give scikit-learn's
    PLSCanonical(algorithm="svd") rotations (which recompute XᵀY and its full SVD every component) to
    rounding, and those of its NIPALS when NIPALS converges; both Gram branches (d_x ≷ d_y) are used."""
    from xbench.methods.pls import canonical_pls

    _, _, x, y = _problem(dx=dx, dy=dy)
    xs, ys = ((v - v.mean(0)) / v.std(0, ddof=1) for v in (x, y))
    k = min(dx, dy)
    rx, ry = canonical_pls(xs, ys, k)
    ref = PLSCanonical(n_components=k, scale=False, algorithm="svd").fit(xs, ys)
    np.testing.assert_allclose(rx, ref.x_rotations_, atol=1e-9)
    np.testing.assert_allclose(ry, ref.y_rotations_, atol=1e-9)
    nipals = PLSCanonical(n_components=k, scale=False, max_iter=5000, tol=1e-14).fit(xs, ys)
    np.testing.assert_allclose(rx, nipals.x_rotations_, atol=1e-5)
    shape, data, _, _ = _problem(dx=dx, dy=dy)
    m = methods.get("pls")(shape, k)
    m.fit_epoch(data, 0)
    np.testing.assert_allclose(m.rotation_text.numpy(), ref.y_rotations_, atol=1e-5)


def test_cca_closed_form_ignores_a_redundant_feature():
    """A text feature that repeats another adds nothing: the numerical-rank cut of the whitening keeps
    the canonical correlations of the problem without it (no blow-up on a zero singular value)."""
    from xbench.methods.cca import canonical_directions

    _, _, x, y = _problem()
    xs, ys = ((v - v.mean(0)) / v.std(0, ddof=1) for v in (x, y))
    _, _, rho = canonical_directions(xs, ys, 3)
    rx, ry, rho_dup = canonical_directions(xs, np.hstack([ys, ys[:, :1]]), 3)
    np.testing.assert_allclose(rho_dup, rho, rtol=1e-8)
    assert np.isfinite(rx).all() and np.isfinite(ry).all() and np.abs(ry).max() < 1e3


def test_label_free_fit_ignores_labels():
    shape, data, _, _ = _problem()
    a = methods.get("cca")(shape, 2)
    a.fit_epoch(data, 0)
    other = TrainData(image=data.image, text=data.text, labels=data.labels.flip(0), noise_rate=0.8)
    b = methods.get("cca")(shape, 2)
    b.fit_epoch(other, 0)
    assert torch.equal(a.continuous("text", data.text), b.continuous("text", data.text))


def test_too_many_components_is_a_clear_error():
    shape, _, _, _ = _problem(dy=6)
    with pytest.raises(ValueError, match="at most 6 exist"):
        methods.get("pls")(shape, 8)


@pytest.mark.parametrize("name", ["cca", "pls"])
def test_end_to_end_on_wikipedia_miniature(tmp_path, name):
    write_wikipedia(tmp_path / "wikipedia", n_train=60, n_test=30)
    res = {
        rho: execute(
            RunConfig(
                method=name,
                dataset="wikipedia",
                bits=3,
                noise=f"symmetric:{rho}",
                topk=None,
                retrieval=("cosine",),
            ),
            tmp_path,
        )
        for rho in (0.2, 0.8)
    }
    for r in res.values():
        assert r.status == "ok", r.error
        assert r.arrays["query_image"].shape == (30, 3) and r.extra["epochs"] == 1
    # label-free: the noise rate cannot change anything
    assert res[0.2].metrics["i2t"]["map"] == res[0.8].metrics["i2t"]["map"]
    assert res[0.2].metrics["variants"][0]["t2i"]["map"] == res[0.8].metrics["variants"][0]["t2i"]["map"]
