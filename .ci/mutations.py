"""Mutation audit of the loss-composition tests (docs/health.md, "Loss-composition tests").

Each mutation replaces one exact piece of source text (it must occur exactly once), runs the given
test files, and restores the file. A mutation is *caught* when the tests fail. Run from the repository
root, one mutation at a time, e.g.

    OMP_NUM_THREADS=1 python .ci/mutations.py              # all
    OMP_NUM_THREADS=1 python .ci/mutations.py cmmq dcmh    # only ids starting with these prefixes

    MUTATION_TESTS=tests/test_loss_values.py python .ci/mutations.py   # only these test files

Prints one line per mutation: id, caught/SURVIVED, the first failing test.

It edits the source files in place while the tests run: run nothing else from the same working tree
meanwhile (a concurrent `xbench run` imports the mutated code), e.g. audit a scratch copy made with
``git worktree add --detach ../xbench-mutations HEAD``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROXY = [
    "tests/test_cmmq_methods.py",
    "tests/test_cmmq_losses.py",
    "tests/test_cmmq_switches.py",
    "tests/test_loss_values.py",
]
DCMH = ["tests/test_pairwise.py", "tests/test_pairwise_methods.py", "tests/test_loss_values.py"]
MRL = ["tests/test_mrl.py", "tests/test_contrastive.py", "tests/test_loss_values.py"]
UOT = ["tests/test_uot_rcl.py", "tests/test_contrastive.py", "tests/test_loss_values.py"]
SCALING = ["tests/test_input_scaling.py"]
LINEAR = ["tests/test_classical.py", "tests/test_loss_values.py"]
PRDH = ["tests/test_prdh.py", "tests/test_pairwise_methods.py"]
METRICS = ["tests/test_metrics_rowpath.py", "tests/test_metrics.py"]
PARTIAL = ["tests/test_metrics_partial.py"]
CMHH = ["tests/test_pairwise.py", "tests/test_pairwise_methods.py", "tests/test_cmhh.py"]
SINKHORN = ["tests/test_sinkhorn.py", "tests/test_transport.py"]

# id, file, old text, new text, tests
MUTATIONS = [
    # ---- bce / the shared PC loss
    (
        "bce-drop-text",
        "methods/bce.py",
        'pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + pc_loss(',
        'pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + 0 * pc_loss(',
        PROXY,
    ),
    (
        "bce-text-uses-image-targets",
        "methods/bce.py",
        '            b_text, o_text, hp["alpha"]',
        '            b_text, o_image, hp["alpha"]',
        PROXY,
    ),
    (
        "pc-quant-sign",
        "methods/proxy_hasher.py",
        "return beta * proxy_bce(b, o) + alpha * quantization_penalty(b, quant)",
        "return beta * proxy_bce(b, o) - alpha * quantization_penalty(b, quant)",
        PROXY,
    ),
    (
        "pc-beta-dropped",
        "methods/proxy_hasher.py",
        "return beta * proxy_bce(b, o) + alpha",
        "return proxy_bce(b, o) + alpha",
        PROXY,
    ),
    (
        "bce-log-1-minus-b",
        "methods/quantization.py",
        "    target = to_probability(proxies.to(b.dtype))",
        "    target = to_probability(proxies.to(b.dtype))\n    p = 1 - p",
        PROXY,
    ),
    (
        "quant-square-to-abs",
        "methods/quantization.py",
        "return (b.abs() - 1.0).pow(2).sum(dim=1)",
        "return (b.abs() - 1.0).abs().sum(dim=1)",
        PROXY,
    ),
    # ---- cmmq
    (
        "cmmq-mq-sign",
        "methods/cmmq.py",
        'terms["joint"] = pc + hp["mq_weight"] * mq',
        'terms["joint"] = pc - hp["mq_weight"] * mq',
        PROXY,
    ),
    (
        "cmmq-mq-dropped",
        "methods/cmmq.py",
        'terms["joint"] = pc + hp["mq_weight"] * mq',
        'terms["joint"] = pc + 0 * mq',
        PROXY,
    ),
    (
        "cmmq-drop-text-pc",
        "methods/cmmq.py",
        'pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + pc_loss(',
        'pc = pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"]) + 0 * pc_loss(',
        PROXY,
    ),
    (
        "cmmq-text-uses-image-targets",
        "methods/cmmq.py",
        '            b_text, o_text, hp["alpha"]',
        '            b_text, o_image, hp["alpha"]',
        PROXY,
    ),
    (
        "cmmq-mq-image-with-itself",
        "methods/cmmq.py",
        "mq = symmetric_kl(b_image, b_text,",
        "mq = symmetric_kl(b_image, b_image.detach(),",
        PROXY,
    ),
    (
        "cmmq-kl-one-direction",
        "methods/quantization.py",
        "per_bit = bernoulli_kl(p, q) + bernoulli_kl(q, p)",
        "per_bit = 2 * bernoulli_kl(p, q)",
        PROXY,
    ),
    (
        "cmmq-kl-bit1-only",
        "methods/quantization.py",
        "return p * (p.log() - q.log()) + (1.0 - p)",
        "return p * (p.log() - q.log()) + 0 * (1.0 - p)",
        PROXY,
    ),
    (
        "cmmq-kl-reduction-ignored",
        "methods/cmmq.py",
        'reduction=hp["kl_reduction"]',
        'reduction="sum"',
        PROXY,
    ),
    (
        "sel-largest-losses",
        "methods/selection.py",
        "order = torch.sort(losses.detach(), stable=True).indices",
        "order = torch.sort(losses.detach(), stable=True, descending=True).indices",
        PROXY,
    ),
    (
        "sel-rt-offset",
        "methods/selection.py",
        "return 1.0 - min(t / t_k * rho, rho)",
        "return 1.0 - min((t + 1) / t_k * rho, rho)",
        PROXY,
    ),
    (
        "sel-ceil-as-floor",
        "methods/selection.py",
        "k = math.ceil(ratio * n - 1e-9)",
        "k = int(ratio * n)",
        PROXY,
    ),
    (
        "sel-rounding-hyper-ignored",
        "methods/proxy_hasher.py",
        'self.hp.get("keep_rounding", "ceil")',
        '"ceil"',
        PROXY,
    ),
    (
        "sel-mean-over-all",
        "methods/proxy_hasher.py",
        "loss = joint[keep].mean()",
        "loss = joint.mean()",
        PROXY,
    ),
    (
        "sample-losses-chunk-4096",
        "methods/proxy_hasher.py",
        'return int(self.hp["batch_size"])',
        "return 4096",
        PROXY,
    ),
    # ---- cmmq-code
    (
        "code-quant-sign",
        "methods/cmmq_code.py",
        '+ self.hp["quant_weight"] * q.mean(dim=1)',
        '- self.hp["quant_weight"] * q.mean(dim=1)',
        PROXY,
    ),
    (
        "code-quant-sum-over-bits",
        "methods/cmmq_code.py",
        '+ self.hp["quant_weight"] * q.mean(dim=1)',
        '+ self.hp["quant_weight"] * q.sum(dim=1)',
        PROXY,
    ),
    (
        "code-drop-text-bce",
        "methods/cmmq_code.py",
        "pc = proxy_bce(b_image, o_image) + proxy_bce(b_text, o_text)",
        "pc = proxy_bce(b_image, o_image) + 0 * proxy_bce(b_text, o_text)",
        PROXY,
    ),
    (
        "code-text-uses-image-targets",
        "methods/cmmq_code.py",
        "+ proxy_bce(b_text, o_text)",
        "+ proxy_bce(b_text, o_image)",
        PROXY,
    ),
    (
        "code-mq-sign",
        "methods/cmmq_code.py",
        'terms["joint"] = pc + self.hp["mq_weight"] * terms["mq"]',
        'terms["joint"] = pc - self.hp["mq_weight"] * terms["mq"]',
        PROXY,
    ),
    (
        "code-infonce-wrong-direction",
        "methods/quantization.py",
        "return -torch.log_softmax(logits, dim=0).diagonal()",
        "return -torch.log_softmax(logits, dim=1).diagonal()",
        PROXY,
    ),
    (
        "code-mq-kind-ignored",
        "methods/cmmq_code.py",
        'MUTUAL_TERMS[self.hp["mq_kind"]]',
        'MUTUAL_TERMS["infonce"]',
        PROXY,
    ),
    (
        "code-symkl-sum",
        "methods/cmmq_code.py",
        'symmetric_kl(u, v, reduction="mean")',
        "symmetric_kl(u, v)",
        PROXY,
    ),
    (
        "code-linspace-offset",
        "methods/selection.py",
        "ramp = np.linspace(0.0, rho, g)",
        "ramp = np.linspace(0.0, rho, g + 1)[1:]",
        PROXY,
    ),
    (
        "code-paper-schedule-ignored",
        "methods/cmmq_code.py",
        'if self.hp["keep_schedule"] == "paper":',
        "if False:",
        PROXY,
    ),
    (
        "code-head-init-ignored",
        "methods/cmmq_code.py",
        "head_init_std=0.01 if release else None",
        "head_init_std=0.01",
        PROXY,
    ),
    (
        "code-proxy-keep-ignored",
        "methods/proxy_hasher.py",
        'keep=self.hp["proxy_keep"]',
        'keep="best"',
        PROXY,
    ),
    # ---- dcmh
    ("dcmh-nll-sign", "methods/dcmh.py", '"nll": pairwise_nll(', '"nll": -pairwise_nll(', DCMH),
    (
        "dcmh-quant-dropped",
        "methods/dcmh.py",
        '"quantization": float(self.hp["gamma"]) *',
        '"quantization": 0 * float(self.hp["gamma"]) *',
        DCMH,
    ),
    (
        "dcmh-balance-dropped",
        "methods/dcmh.py",
        '"balance": float(self.hp["eta"]) *',
        '"balance": 0 * float(self.hp["eta"]) *',
        DCMH,
    ),
    (
        "dcmh-own-buffer",
        "methods/dcmh.py",
        "theta(u, self.buffer(other))",
        "theta(u, self.buffer(modality))",
        DCMH,
    ),
    (
        "dcmh-scale-dropped",
        "methods/dcmh.py",
        "scale = 1.0 / (len(data) * len(idx))",
        "scale = 1.0 / len(data)",
        DCMH,
    ),
    ("dcmh-theta-half-dropped", "methods/pairwise.py", "return 0.5 * u @ v.t()", "return u @ v.t()", DCMH),
    (
        "dcmh-nll-s-sign",
        "methods/pairwise.py",
        "return softplus(theta_) - s * theta_",
        "return softplus(theta_) + s * theta_",
        DCMH,
    ),
    (
        "dcmh-gamma-eta-swapped",
        "methods/dcmh.py",
        '"quantization": float(self.hp["gamma"])',
        '"quantization": float(self.hp["eta"])',
        DCMH,
    ),
    (
        "dcmh-objective-quant-dropped",
        "methods/dcmh.py",
        'total = nll + float(self.hp["gamma"]) * quant',
        "total = nll + 0 * quant",
        DCMH,
    ),
    (
        "dcmh-objective-balance-sign",
        "methods/dcmh.py",
        '+ float(self.hp["eta"]) * bal',
        '- float(self.hp["eta"]) * bal',
        DCMH,
    ),
    (
        "dcmh-b-step-sign",
        "methods/shared_codes.py",
        "        self.B = torch.sign(self.F + self.G)\n\n    def pass",
        "        self.B = -torch.sign(self.F + self.G)\n\n    def pass",
        DCMH,
    ),
    (
        "dcmh-similarity-own-labels",
        "methods/dcmh.py",
        "self.similarity_rows(data.labels_of(modality), data.labels_of(other), idx)",
        "self.similarity_rows(data.labels_of(modality), data.labels_of(modality), idx)",
        DCMH,
    ),
    # ---- mrl / uot-rcl input scaling (docs/health.md, "Input scaling")
    (
        "mrl-unscaled-inputs",
        "methods/mrl.py",
        "return self.net(modality)(self.scaled(modality, x))",
        "return self.net(modality)(x)",
        SCALING,
    ),
    (
        "mrl-loss-bypasses-scaling",
        "methods/mrl.py",
        'self.continuous("image", data.image[idx]),',
        "self.image_net(data.image[idx]),",
        SCALING,
    ),
    (
        "uot-rcl-unscaled-inputs",
        "methods/uot_rcl.py",
        "torch.tanh(self.net(modality)(self.scaled(modality, x.to(self.device))))",
        "torch.tanh(self.net(modality)(x.to(self.device)))",
        SCALING,
    ),
    # ---- mrl
    (
        "mrl-beta-swapped",
        "methods/mrl.py",
        '"loss": beta * rc + (1.0 - beta) * mc',
        '"loss": (1.0 - beta) * rc + beta * mc',
        MRL,
    ),
    (
        "mrl-rc-sign",
        "methods/mrl.py",
        '"loss": beta * rc + (1.0 - beta) * mc',
        '"loss": -beta * rc + (1.0 - beta) * mc',
        MRL,
    ),
    ("mrl-text-rc-dropped", "methods/mrl.py", "rc = rc_image + rc_text", "rc = rc_image + 0 * rc_text", MRL),
    (
        "mrl-text-uses-image-labels",
        "methods/mrl.py",
        '            data.labels_of("text")[idx],',
        '            data.labels_of("image")[idx],',
        MRL,
    ),
    (
        "mrl-tau-swapped",
        "methods/mrl.py",
        "rc_image = robust_clustering_loss(zi @ centres / tau_rc",
        "rc_image = robust_clustering_loss(zi @ centres / tau_mc",
        MRL,
    ),
    (
        "mrl-mc-mean-not-sum",
        "methods/mrl.py",
        'zi, zt, tau_mc, reduction="sum_modalities"',
        'zi, zt, tau_mc, reduction="mean"',
        MRL,
    ),
    (
        "mrl-self-similarity-ignored",
        "methods/mrl.py",
        'include_self=hp["self_similarity"] == "included"',
        "include_self=False",
        MRL,
    ),
    (
        "mrl-rc-positive-mass",
        "methods/contrastive.py",
        "per_sample = (log_neg - log_all)",
        "per_sample = (log_all - log_neg)",
        MRL,
    ),
    (
        "mrl-mc-partner",
        "methods/contrastive.py",
        "partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])",
        "partner = torch.cat([torch.arange(n, 2 * n).roll(1), torch.arange(0, n).roll(1)])",
        MRL,
    ),
    # ---- uot-rcl (public behaviour: logged losses)
    (
        "uot-beta-swapped",
        "methods/uot_rcl.py",
        'loss = hp["beta"] * loss_class + (1.0 - hp["beta"]) * loss_align',
        'loss = (1.0 - hp["beta"]) * loss_class + hp["beta"] * loss_align',
        UOT,
    ),
    (
        "uot-text-class-dropped",
        "methods/uot_rcl.py",
        ") + weighted_class_loss(self.prototypes.logits(z_text",
        ") + 0 * weighted_class_loss(self.prototypes.logits(z_text",
        UOT,
    ),
    (
        "uot-text-uses-image-labels",
        "methods/uot_rcl.py",
        'y_image, y_text = labels["image"][idx], labels["text"][idx]',
        'y_image, y_text = labels["image"][idx], labels["image"][idx]',
        UOT,
    ),
    (
        "uot-relation-sign",
        "methods/uot_rcl.py",
        '+ hp["relation_weight"] * loss_rel',
        '- hp["relation_weight"] * loss_rel',
        UOT,
    ),
    ("uot-mc-weight-ignored", "methods/uot_rcl.py", 'else hp["mc_weight"] * loss_mc', "else loss_mc", UOT),
    (
        "uot-quant-sign",
        "methods/uot_rcl.py",
        'loss = loss + hp["quant_weight"] * loss_quant',
        'loss = loss - hp["quant_weight"] * loss_quant',
        UOT,
    ),
    (
        "uot-quant-half-dropped",
        "methods/uot_rcl.py",
        "loss_quant = 0.5 * ((h_image",
        "loss_quant = 1.0 * ((h_image",
        UOT,
    ),
    (
        "uot-weights-ignored",
        "methods/contrastive.py",
        "return (weight * per).sum() / weight.sum().clamp_min(1e-12)",
        "return per.mean()",
        UOT,
    ),
    (
        "uot-tau-dropped",
        "methods/uot_rcl.py",
        'self.prototypes.logits(z_image, hp["tau"])',
        "self.prototypes.logits(z_image)",
        UOT,
    ),
    (
        "uot-mc-tau-dropped",
        "methods/uot_rcl.py",
        'multimodal_contrastive_loss(z_image, z_text, tau=hp["tau"]',
        "multimodal_contrastive_loss(z_image, z_text, tau=1.0",
        UOT,
    ),
    # ---- cca / pls (shared TwoViewProjection)
    (
        "linear-no-scaling",
        "methods/linear.py",
        "scale = np.where(scale > 0, scale, 1.0)",
        "scale = np.ones_like(scale)",
        LINEAR,
    ),
    (
        "linear-rotations-swapped-sign",
        "methods/linear.py",
        '("text", my, sy, ry)',
        '("text", my, sy, -ry)',
        LINEAR,
    ),
    (
        "cca-closed-form-text-directions-from-columns",
        "methods/cca.py",
        "wy @ bt[:k_found].T",
        "wy @ bt[:, :k_found]",
        LINEAR,
    ),
    (
        "proxy-outputs-skip-input-scaling",
        "methods/proxy_hasher.py",
        "return self.net(modality)(self.scaled(modality, x))",
        "return self.net(modality)(x)",
        ["tests/test_cmmq_methods.py"],
    ),
    (
        "softplus-gradient-sign",
        "methods/pairwise.py",
        "return grad * torch.sigmoid(x)",
        "return grad * torch.sigmoid(-x)",
        ["tests/test_pairwise.py"],
    ),
    (
        "similarity-cache-ignores-in-place-change",
        "methods/shared_codes.py",
        "r is rows and c is cols and v == versions",
        "r is rows and c is cols",
        ["tests/test_pairwise.py"],
    ),
    (
        "pls-closed-form-no-y-deflation-in-cross-covariance",
        "methods/pls.py",
        "c -= np.outer(p[:, j], yk.T @ t) + np.outer(x_next_s, q[:, j])",
        "c -= np.outer(p[:, j], yk.T @ t)",
        LINEAR,
    ),
    (
        "pls-closed-form-y-loadings-from-x-scores",
        "methods/pls.py",
        "q[:, j] = yk.T @ s / (s @ s)",
        "q[:, j] = yk.T @ t / (t @ t)",
        LINEAR,
    ),
    (
        "cca-closed-form-no-rank-cut",
        "methods/cca.py",
        "keep = s > (s[0] if len(s) else 0.0) * max(v.shape) * np.finfo(v.dtype).eps",
        "keep = s > 0",
        LINEAR,
    ),
    (
        "linear-test-mean-dropped",
        "methods/linear.py",
        'z = (z - getattr(self, f"mean_{modality}"))',
        'z = (z - 0 * getattr(self, f"mean_{modality}"))',
        LINEAR,
    ),
    # ---- prdh (tests/test_prdh.py; the gradient-only one: test_pairwise_methods.py)
    (
        "prdh-inter-term-dropped",
        "methods/prdh.py",
        '"inter": pairwise_nll(theta(u, self.buffer(other)), s_inter).sum() * scale,',
        '"inter": 0.0 * pairwise_nll(theta(u, self.buffer(other)), s_inter).sum() * scale,',
        PRDH,
    ),
    (
        "prdh-inter-against-own-buffer-buffer-swap",
        "methods/prdh.py",
        "theta(u, self.buffer(other)), s_inter",
        "theta(u, self.buffer(modality)), s_inter",
        PRDH,
    ),
    (
        "prdh-intra-against-other-buffer-buffer-swap",
        "methods/prdh.py",
        "theta(u, self.buffer(modality)), s_intra",
        "theta(u, self.buffer(other)), s_intra",
        PRDH,
    ),
    (
        "prdh-intra-factor-2-dropped",
        "methods/prdh.py",
        '"intra": 2.0\n',
        '"intra": 1.0\n',
        PRDH,
    ),
    (
        "prdh-w-intra-ignored",
        "methods/prdh.py",
        '* float(self.hp["w_intra"])\n            * pairwise_nll',
        "* pairwise_nll",
        PRDH,
    ),
    (
        "prdh-inter-similarity-from-own-labels",
        "methods/prdh.py",
        "s_inter = self.similarity_rows(own_labels, data.labels_of(other), idx)",
        "s_inter = self.similarity_rows(own_labels, own_labels, idx)",
        PRDH,
    ),
    (
        "prdh-intra-similarity-from-other-labels",
        "methods/prdh.py",
        "s_intra = self.similarity_rows(own_labels, own_labels, idx)",
        "s_intra = self.similarity_rows(own_labels, data.labels_of(other), idx)",
        PRDH,
    ),
    (
        "prdh-quantization-sign-flipped",
        "methods/prdh.py",
        "quantization_loss(self.B[idx], u)",
        "quantization_loss(-self.B[idx], u)",
        PRDH,
    ),
    (
        "prdh-gamma-and-eta-swapped",
        "methods/prdh.py",
        '"quantization": float(self.hp["gamma"])',
        '"quantization": float(self.hp["eta"])',
        PRDH,
    ),
    (
        "prdh-decorrelation-sign-flipped",
        "methods/prdh.py",
        '"decorrelation": float(self.hp["lam"]) * decorrelation_loss(u)',
        '"decorrelation": -float(self.hp["lam"]) * decorrelation_loss(u)',
        PRDH,
    ),
    (
        "prdh-balance-dropped",
        "methods/prdh.py",
        '"balance": float(self.hp["eta"])',
        '"balance": 0.0 * float(self.hp["eta"])',
        PRDH,
    ),
    (
        "prdh-balance-w-o-live-batch-rows-gradient-only",
        "methods/prdh.py",
        "balance_loss(self.column_sum_with(modality, u, idx))",
        "balance_loss(self.buffer(modality).sum(0))",
        PRDH,
    ),
    (
        "prdh-scale-1-n-bs-1-n",
        "methods/prdh.py",
        "scale = 1.0 / (len(data) * len(idx))",
        "scale = 1.0 / (len(data) * len(data))",
        PRDH,
    ),
    (
        "prdh-objective-intra-weight-dropped",
        "methods/prdh.py",
        '+ float(self.hp["w_intra"]) * intra',
        "+ intra",
        PRDH,
    ),
    (
        "prdh-objective-decorrelation-sign-flipped",
        "methods/prdh.py",
        ') / n2 + float(self.hp["lam"]) * decor',
        ') / n2 - float(self.hp["lam"]) * decor',
        PRDH,
    ),
    (
        "prdh-objective-text-intra-dropped",
        "methods/prdh.py",
        "+ self.chunked_nll(self.G, self.G, lt, lt)",
        "+ 0.0",
        PRDH,
    ),
    # ---- the evaluator's one-row scan (tests/test_metrics_rowpath.py, tests/test_metrics.py)
    (
        "metrics-row-prefix-sorted-on-key-not-distance",
        "benchmark/evaluating/metrics.py",
        'np.argsort(vals | key.dtype.type(1), kind="stable")',
        'np.argsort(vals, kind="stable")',
        METRICS,
    ),
    (
        "metrics-row-cut-distance-one-short",
        "benchmark/evaluating/metrics.py",
        "int(np.searchsorted(np.cumsum(n), depth))",
        "int(np.searchsorted(np.cumsum(n), depth)) - 1",
        METRICS,
    ),
    (
        "metrics-relevance-reused-across-label-rows",
        "benchmark/evaluating/metrics.py",
        "elif last_label is None or label_ids[rows[0]] != last_label:",
        "elif last_label is None:",
        METRICS,
    ),
    (
        "metrics-integer-codes-zero-maps-to-minus-one",
        "benchmark/evaluating/metrics.py",
        "return x > 0 if is01 else x >= 0\n    is01",
        "return x > 0 if is01 else x > 0\n    is01",
        METRICS,
    ),
    (
        "metrics-odd-row-last-key-not-counted",
        "benchmark/evaluating/metrics.py",
        "out[i, keys[i, -1]] += 1",
        "pass",
        METRICS,
    ),
    (
        "metrics-tie-average-harmonic-one-short",
        "benchmark/evaluating/metrics.py",
        "harm = _harmonic(nd) if tie_averaged else None",
        "harm = _harmonic(nd - 1) if tie_averaged else None",
        METRICS,
    ),
    # ---- rows without the pooled curve (summarize(pooled=False); tests/test_metrics_partial.py)
    (
        "metrics-partial-search-reaches-prefix-not-r",
        "benchmark/evaluating/metrics.py",
        "if within >= reach or d_cap >= bits:",
        "if within >= depth or d_cap >= bits:",
        PARTIAL,
    ),
    (
        "metrics-partial-relevant-beyond-not-subtracted",
        "benchmark/evaluating/metrics.py",
        "rel_beyond = num_relevant - int(np.count_nonzero(rv))",
        "rel_beyond = num_relevant",
        PARTIAL,
    ),
    (
        "metrics-partial-prefix-unstable-sort",
        "benchmark/evaluating/metrics.py",
        'prefix = rv[np.argsort(dv, kind="stable")[:depth]] if depth else rv[:0]',
        "prefix = rv[np.argsort(dv + 0.0)[:depth]] if depth else rv[:0]",
        PARTIAL,
    ),
    (
        "metrics-partial-no-radius-floor",
        "benchmark/evaluating/metrics.py",
        "k[0], rl[0], num_relevant, reach, depth, local.guess, 2, bits, mask[0], acc.hist[rows[0]]",
        "k[0], rl[0], num_relevant, reach, depth, local.guess, 0, bits, mask[0], acc.hist[rows[0]]",
        PARTIAL,
    ),
    (
        "metrics-partial-relevant-count-of-first-label-row",
        "benchmark/evaluating/metrics.py",
        "num_relevant = int(np.count_nonzero(rl[0])) if partial else 0",
        "num_relevant = num_relevant or (int(np.count_nonzero(rl[0])) if partial else 0)",
        PARTIAL,
    ),
    # ---- cmhh (methods/cmhh.py and its losses in methods/pairwise.py)
    (
        "cmhh-quant-sign",
        "methods/cmhh.py",
        'return {"loss": focal + quant,',
        'return {"loss": focal - quant,',
        CMHH,
    ),
    (
        "cmhh-quant-half-dropped",
        "methods/cmhh.py",
        "lam * 0.5 * (self.quantization",
        "lam * 1.0 * (self.quantization",
        CMHH,
    ),
    (
        "cmhh-image-quant-twice",
        "methods/cmhh.py",
        "+ self.quantization(h_text).mean()",
        "+ self.quantization(h_image).mean()",
        CMHH,
    ),
    (
        "cmhh-class-balance-dropped",
        "methods/cmhh.py",
        "return class_balanced_weights(s, counts) * focal",
        "return focal",
        CMHH,
    ),
    ("cmhh-default-beta-fixed", "methods/cmhh.py", "or 1.6 / self.bits", "or 0.25", CMHH),
    ("cmhh-text-net-ignored", "methods/cmhh.py", 'if hp["text_net"] == "mlp3":', "if True:", CMHH),
    ("cmhh-text-init-ignored", "methods/cmhh.py", 'if hp["text_init"] == "pytorch":', "if False:", CMHH),
    (
        "cmhh-sample-loss-half-dropped",
        "methods/cmhh.py",
        "out += 0.5 * self.pair_terms",
        "out += self.pair_terms",
        CMHH,
    ),
    (
        "cmhh-sample-loss-labels-swapped",
        "methods/cmhh.py",
        "(h_t, h_i, lt, li)",
        "(h_t, h_i, li, lt)",
        CMHH,
    ),
    (
        "cmhh-batch-own-labels",
        "methods/cmhh.py",
        's = similarity(data.labels_of("image")[idx], data.labels_of("text")[idx])',
        's = similarity(data.labels_of("image")[idx], data.labels_of("image")[idx])',
        CMHH,
    ),
    (
        "cmhh-focal-similar-dropped",
        "methods/pairwise.py",
        "return s * (1.0 - p) ** gamma * bd - (1.0 - s) * p**gamma * log_one_minus_p",
        "return 0 * s * (1.0 - p) ** gamma * bd - (1.0 - s) * p**gamma * log_one_minus_p",
        CMHH,
    ),
    (
        "cmhh-focal-dissimilar-sign",
        "methods/pairwise.py",
        "return s * (1.0 - p) ** gamma * bd - (1.0 - s) * p**gamma * log_one_minus_p",
        "return s * (1.0 - p) ** gamma * bd + (1.0 - s) * p**gamma * log_one_minus_p",
        CMHH,
    ),
    (
        "cmhh-focal-gamma-ignored",
        "methods/pairwise.py",
        "return s * (1.0 - p) ** gamma * bd - (1.0 - s) * p**gamma * log_one_minus_p",
        "return s * (1.0 - p) * bd - (1.0 - s) * p * log_one_minus_p",
        CMHH,
    ),
    (
        "cmhh-distance-half-dropped",
        "methods/pairwise.py",
        "return 0.5 * k * (1.0 - cos)",
        "return k * (1.0 - cos)",
        CMHH,
    ),
    (
        "cmhh-exp-quant-sign",
        "methods/pairwise.py",
        "return beta * continuous_hamming(outputs.abs(), ones)",
        "return -beta * continuous_hamming(outputs.abs(), ones)",
        CMHH,
    ),
    (
        "cmhh-square-quant-abs-dropped",
        "methods/pairwise.py",
        "return ((outputs.abs() - 1.0) ** 2).sum(dim=1)",
        "return ((outputs - 1.0) ** 2).sum(dim=1)",
        CMHH,
    ),
    # ---- ssah's local response normalisation (methods/semantic_networks.py)
    (
        "ssah-lrn-window-short",
        "methods/semantic_networks.py",
        "for i in range(1, size):",
        "for i in range(1, size - 1):",
        ["tests/test_ssah.py"],
    ),
    (
        "ssah-lrn-mean-as-sum",
        "methods/semantic_networks.py",
        "return x / (window / size).mul(self.alpha)",
        "return x / window.mul(self.alpha)",
        ["tests/test_ssah.py"],
    ),
    # ---- the scaled form of POT's log-domain solvers (methods/sinkhorn.py)
    (
        "sinkhorn-row-correction-dropped",
        "methods/sinkhorn.py",
        "        q_row = -d_row",
        "        q_row = 0 * d_row",
        SINKHORN,
    ),
    (
        "sinkhorn-col-correction-dropped",
        "methods/sinkhorn.py",
        "        q_col = -d_col",
        "        q_col = 0 * d_col",
        SINKHORN,
    ),
    (
        "sinkhorn-capacity-not-an-inequality",
        "methods/sinkhorn.py",
        "d_row = torch.clamp(log_a - (row + shift + top + c_max + torch.log(k_col)), max=0.0)",
        "d_row = log_a - (row + shift + top + c_max + torch.log(k_col))",
        SINKHORN,
    ),
    (
        "sinkhorn-mass-scale-dropped",
        "methods/sinkhorn.py",
        "shift = log_m - (top + r_max + c_max + torch.log(e_row @ k_col))",
        "shift = log_m - (r_max + c_max + torch.log(e_row @ k_col))",
        SINKHORN,
    ),
    (
        "sinkhorn-change-without-shift",
        "methods/sinkhorn.py",
        "change = (row_prev - row + (shift_prev - shift))",
        "change = (row_prev - row)",
        SINKHORN,
    ),
    (
        "sinkhorn-balanced-row-marginal-checked",
        "methods/sinkhorn.py",
        "columns = torch.exp(v + _lse_cols(kernel, top, u))\n            if float(torch.linalg.norm(columns - b)) < tol:",
        "columns = torch.exp(u + _lse_rows(kernel, top, v))\n            if float(torch.linalg.norm(columns - a)) < tol:",
        SINKHORN,
    ),
    (
        "sinkhorn-check-every-5",
        "methods/sinkhorn.py",
        "        if it % 10 == 0:\n            # POT",
        "        if it % 5 == 0:\n            # POT",
        SINKHORN,
    ),
]


def run(mutation) -> tuple[str, str]:
    ident, path, old, new, tests = mutation
    file = Path(path)
    text = file.read_text()
    count = text.count(old)
    if count != 1:
        return "BAD", f"old text occurs {count} times in {path}"
    only = os.environ.get("MUTATION_TESTS")  # e.g. tests/test_loss_values.py: what that file alone catches
    tests = [t for t in (only.split(",") if only else tests) if Path(t).exists()]
    try:
        file.write_text(text.replace(old, new))
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        file.write_text(text)
    failed = re.findall(r"^FAILED (\S+)", proc.stdout, flags=re.M)
    if proc.returncode == 0:
        return "SURVIVED", ""
    return "caught", failed[0] if failed else proc.stdout.strip().splitlines()[-1]


def main(prefixes: list[str]) -> None:
    for mutation in MUTATIONS:
        if prefixes and not any(mutation[0].startswith(p) for p in prefixes):
            continue
        status, detail = run(mutation)
        print(f"{mutation[0]:36s} {status:9s} {detail}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
