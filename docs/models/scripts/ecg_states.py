#!/usr/bin/env python3
"""What the GDM's states find in the ECG record (docs/models/gdm.md). NumPy only.

usage: ecg_states.py RUN_DIR [DATA_CSV]
  RUN_DIR:  a `neurodyn gdm fit tests/data/mitdb.csv --labels label ...` output folder
  DATA_CSV: the record (default tests/data/mitdb.csv)

For every state: its use (argmax share) outside and inside the abnormal stretch (label 1), its
mean soft probability outside/inside, the AUC of its soft probability for the abnormal label
(per step), and the share of its argmax steps that lie within ±5 samples of an R peak
(samples above the 99th percentile of the signal that are local maxima).
"""
import os
import sys

import numpy as np


def auc(score, label):
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = label == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def main():
    run = sys.argv[1]
    here = os.path.dirname(__file__)
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "..",
                                                              "tests/data/mitdb.csv")
    rec = np.genfromtxt(data, delimiter=",", names=True)
    y, lab = rec["data"], rec["label"].astype(int)
    st = np.genfromtxt(os.path.join(run, "states.csv"), delimiter=",", names=True)
    k = len([n for n in st.dtype.names if n.startswith("state_")])
    z = np.stack([st[f"state_{j}"] for j in range(k)], 1)
    arg = z.argmax(1)
    thr = np.percentile(y, 99)
    peaks = np.where((y > thr) & (y >= np.roll(y, 1)) & (y >= np.roll(y, -1)))[0]
    near = np.zeros(len(y), bool)
    for p in peaks:
        near[max(0, p - 5):p + 6] = True
    ab = lab == 1
    print(f"{run}: K = {k}, {len(y)} steps, abnormal stretch {ab.sum()} steps "
          f"(rows {np.where(ab)[0].min()}–{np.where(ab)[0].max()}), {len(peaks)} R peaks, "
          f"±5 samples of a peak = {near.mean():.3f} of the record")
    print("state  use outside  use inside  mean p outside  mean p inside  AUC(abnormal)  "
          "argmax steps near an R peak")
    for j in range(k):
        sel = arg == j
        print(f"{j:5d}  {sel[~ab].mean():11.3f}  {sel[ab].mean():10.3f}  {z[~ab, j].mean():14.3f}  "
              f"{z[ab, j].mean():13.3f}  {auc(z[:, j], lab):13.3f}  "
              f"{(near[sel].mean() if sel.any() else float('nan')):.3f}")


if __name__ == "__main__":
    main()
