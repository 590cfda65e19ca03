#!/usr/bin/env python3
"""kNN (k = 10) state accuracy of oracle features on NASCAR (docs/models/gdm.md).

The GDM's soft states are averaged samples of a posterior over z_t; the authors' posterior
q(z_t | y_t) sees only y_t = C x_t + noise, i.e. the position x_t. This script scores the SPEC
§6.3 kNN metric on features no such posterior can beat or reach:
  position  x_t (true latent position; what a posterior of y_t alone can at best know)
  velocity  x_t − x_{t−1} (what the increments of y carry)
  true z    the generator's soft states
Training features/labels from the training sequence, scored on the test sequence, as the
benchmark does. NumPy only.

usage: nascar_oracle.py NEURODYN_BINARY [VARIANT]     VARIANT: nascar-soft (default) or nascar
  scores the reference file tests/data/nascar/<variant>_seed0_test1.npz (the authors' data)
  and the sequences of `neurodyn gdm bench VARIANT` (seed s, test seed 1000 + s, s = 0..9).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def knn_accuracy(xtr, ytr, xte, yte, k=10):
    d = ((xte[:, None, :] - xtr[None, :, :]) ** 2).sum(-1)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    votes = np.zeros((len(xte), int(ytr.max()) + 1))
    for j in range(k):
        np.add.at(votes, (np.arange(len(xte)), ytr[idx[:, j]]), 1)
    return float((votes.argmax(1) == yte).mean())  # ties go to the smallest label


def scores(d):
    x0 = np.array([[0.0, 1.0]])
    out = {}
    for name in ("position", "velocity", "true z"):
        f = {}
        for part in ("train", "test"):
            x = d[f"{part}_x"]
            f[part] = {"position": x, "velocity": x - np.vstack([x0, x[:-1]]),
                       "true z": d[f"{part}_z"]}[name]
        out[name] = knn_accuracy(f["train"], d["train_labels"], f["test"], d["test_labels"])
    out["majority"] = float(np.bincount(d["test_labels"]).max() / len(d["test_labels"]))
    return out


def main():
    nd = sys.argv[1]
    variant = sys.argv[2] if len(sys.argv) > 2 else "nascar-soft"
    ref = {"nascar-soft": "softsticky", "nascar": "standard"}[variant]
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..")
    s = scores(np.load(os.path.join(root, f"tests/data/nascar/{ref}_seed0_test1.npz")))
    print(f"{variant} authors' data (seed 0, test seed 1): "
          + "  ".join(f"{k} {v:.3f}" for k, v in s.items()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(10):
            path = os.path.join(tmp, f"s{seed}.npz")
            subprocess.run([nd, "gdm", "simulate", variant, "--seed", str(seed),
                            "--test-seed", str(1000 + seed), "--out", path],
                           check=True, capture_output=True)
            rows.append(scores(np.load(path)))
    for k in rows[0]:
        v = np.array([r[k] for r in rows])
        print(f"{variant} bench data, 10 seeds: {k} {v.mean():.3f} ± {v.std(ddof=1):.3f}  "
              f"(per seed {' '.join(f'{x:.3f}' for x in v)})")


if __name__ == "__main__":
    main()
