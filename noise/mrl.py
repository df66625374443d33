"""``mrl``: the symmetric label noise of MRL's generator (Hu et al., CVPR 2021).

Semantics of penghu-cs/MRL @ e0f5c8f ``src/noisydataset.py`` L138-179:

* **exact count, per modality**: for each modality separately the sample indices are shuffled
  and the first ⌊ρ·N⌋ are selected, so the image and the text of one pair get independent
  noisy labels (the paper's "different annotators for the image modality and the text
  modality", §3.1). xbench always draws this model per modality (``per_modality`` is forced).
* **the new label is drawn uniformly among the classes**, so a selected sample keeps its true
  label with probability 1/C: the expected changed fraction is ⌊ρN⌋/N · (C − 1)/C, below ρ.

Quirk not reproduced: at e0f5c8f the release draws ``random.randint(0, class_num)``, which
includes ``class_num`` itself — an **invalid** class C, emitted with probability 1/(C + 1) per
selected sample (on reload its loader then counts C + 1 classes). A later revision
(914fdd7) draws ``random.randint(0, 9)``: uniform over the 10 valid classes of its datasets
with 10 classes (and wrong for any other C). xbench draws uniformly among the C valid classes
0…C−1, the later revision's semantics for every C; the selected count ``int(ρ·N)`` and the
per-modality independence are kept.

Draw order (per modality, its own generator): ``perm = rng.permutation(N)``; the first
m = ⌊ρN⌋ entries are the selected samples (in that order); ``new = rng.integers(0, C, m)``.
Single-label data only (MRL's datasets are single-label); multi-label input is refused.
"""

from __future__ import annotations

import numpy as np

from .base import NoiseModel, NoiseResult, label_type, move_counts


class MRLNoise(NoiseModel):
    """MRL's per-modality symmetric noise (new label uniform among all C classes)."""

    name = "mrl"
    description = (
        "MRL's generator: per modality, exactly ⌊ρN⌋ samples get a label drawn uniformly among all C "
        "classes (may equal the true one)"
    )
    definition = (
        "per modality independently: select m = ⌊ρN⌋ samples uniformly without replacement; each gets "
        "ỹ ~ Uniform{0,…,C−1} (the true class with probability 1/C), so E[changed] = (m/N)(C−1)/C. "
        "MRL's release draws randint(0, C), which can emit the invalid class C; xbench does not."
    )
    used_by = "MRL (CVPR 2021) penghu-cs/MRL src/noisydataset.py L138-179; ELRCMR copies it"
    min_classes = 2
    #: drawn independently for the image and the text side even without ``--noise-per-modality``
    per_modality_only = True

    @staticmethod
    def num_selected(num_samples: int, rate: float) -> int:
        """m = ⌊ρ·N⌋ (Python's ``int(rate * N)`` of the release)."""
        return int(rate * num_samples)

    def validate(self, labels: np.ndarray, rate: float) -> None:
        super().validate(labels, rate)
        if len(labels) and label_type(np.asarray(labels)) != "single-label":
            raise ValueError(
                "mrl noise is defined for single-label data (every sample exactly one class); "
                "use symmetric or swap for multi-label data"
            )

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, rate)
        n, c = labels.shape
        clean = labels.argmax(1)
        m = self.num_selected(n, rate)
        selected = rng.permutation(n)[:m]
        new = rng.integers(0, c, size=m)
        dest = clean.copy()
        dest[selected] = new
        noisy = np.zeros_like(labels)
        noisy[np.arange(n), dest] = 1
        corrupted = dest != clean
        return NoiseResult(
            noisy,
            corrupted,
            {
                "moves": move_counts(clean, dest, c),
                "selected": int(m),
                "selected_fraction": float(m / n) if n else 0.0,
                "selected_kept": int(m - corrupted.sum()),
            },
        )
