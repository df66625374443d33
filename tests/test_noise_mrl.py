"""``mrl:ρ`` — MRL's per-modality noise: draw order, realised statistics vs an independent count."""

from __future__ import annotations

import numpy as np
import pytest

from xbench import noise


def _labels(n=2173, c=10, seed=0):
    return np.random.default_rng(seed).integers(0, c, n)


def test_registered_and_always_per_modality():
    assert noise.registry.get("mrl") is noise.MRLNoise
    out = noise.inject(_labels(), "mrl:0.4", seed=1)  # per_modality not asked for
    assert out.stats["per_modality"] and out.text is not None
    assert not np.array_equal(out.image.noisy_labels, out.text.noisy_labels)


@pytest.mark.parametrize("rate", [0.2, 0.4, 0.6, 0.8])
def test_realised_stats_match_an_independent_count(rate):
    clean = _labels()
    out = noise.inject(clean, f"mrl:{rate}", seed=3)
    for side, result in (("image", out.image), ("text", out.text)):
        noisy = result.noisy_labels.argmax(1)
        changed = int((noisy != clean).sum())
        stats = out.stats[side]
        assert stats["num_corrupted"] == changed
        assert stats["corrupted_fraction"] == pytest.approx(changed / len(clean))
        m = int(rate * len(clean))
        assert stats["selected"] == m and stats["selected_kept"] == m - changed
        assert (result.noisy_labels.sum(1) == 1).all()  # always one valid class
        # the draw order of the docstring: the first m of a permutation are the only candidates
        rng = noise.noise_rng(3, noise.NoiseSpec.parse(f"mrl:{rate}"), side)
        selected = rng.permutation(len(clean))[:m]
        assert set(np.flatnonzero(noisy != clean)) <= set(selected.tolist())
        new = rng.integers(0, 10, m)
        assert np.array_equal(noisy[selected], new)
    differ = (out.image.noisy_labels != out.text.noisy_labels).any(1).mean()
    assert out.stats["modality_disagreement_fraction"] == pytest.approx(differ)


def test_changed_fraction_is_rho_times_c_minus_1_over_c():
    """A selected sample keeps its class w.p. 1/C: E[changed] = ⌊ρN⌋/N·(C−1)/C (not ρ, not ρC/(C+1))."""
    clean = _labels(n=1000, c=4)
    fracs = [noise.inject(clean, "mrl:0.5", seed=s).stats["image"]["corrupted_fraction"] for s in range(300)]
    expected = 0.5 * 3 / 4
    se = np.sqrt(expected * (1 - expected) / 1000 / 300) * 3 + 1e-3
    assert abs(np.mean(fracs) - expected) < 3 * se
    assert abs(np.mean(fracs) - 0.5) > 0.1


def test_multilabel_refused():
    labels = np.array([[1, 1, 0], [0, 1, 0]], dtype=np.uint8)
    with pytest.raises(ValueError, match="single-label"):
        noise.inject(labels, "mrl:0.2", seed=0)
