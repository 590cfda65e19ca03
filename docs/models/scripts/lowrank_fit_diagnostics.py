#!/usr/bin/env python3
"""Why a plain low-rank fit's latent field differs from the truth's (docs/models/lowrank.md,
"Diagnosis"). NumPy only.

usage: lowrank_fit_diagnostics.py DATA_DIR FIT_DIR [--path]
  DATA_DIR: a `neurodyn lowrank simulate` folder (activity.npy, truth.npz)
  FIT_DIR:  a `neurodyn lowrank fit DATA_DIR/activity.npy` folder (fit.npz, model.json)

Prints, for the truth and the fit, each integrated from the fit's initial-state guess
x0 = atanh(clip(r(0), ±0.995)) with RK4 at the sample interval (and at a quarter of it):
  * the training loss (the fit's objective: mean squared rate error over the training trials),
    overall and over samples 1..10 (the transient) and 11..T;
  * the overlap E[n mᵀ] of both, and the fitted m against the true m by |m| bin (slope, RMS);
  * the relative latent field error on the metric's grid (the disk of radius 1.1 × the largest
    |κ| of the fit's trajectories) and on the truth's visited states; the grid error with the
    true n (m from the fit) and with the true m (n from the fit);
  * the shrinkage of the latent initial state κ(0) by the x0 guess (from fresh draws
    x0 = M κ0 + 0.5 ξ, rates + N(0, 0.02²), κ0 uniform in the recipe's disk).
With --path: the training loss along the straight line from the fit to the truth (a barrier
would show as a rise).
"""
import json
import sys

import numpy as np


def rk4_loss(m, n, x0, act, h, sub=1):
    """Per-sample mean squared rate error (T,) of the network from x0."""
    N = m.shape[0]
    f = lambda x: -x + (np.tanh(x) @ n / N) @ m.T
    x = x0.copy()
    out = [np.mean((np.tanh(x) - act[:, 0]) ** 2)]
    hh = h / sub
    for k in range(act.shape[1] - 1):
        for _ in range(sub):
            k1 = f(x)
            k2 = f(x + hh / 2 * k1)
            k3 = f(x + hh / 2 * k2)
            k4 = f(x + hh * k3)
            x = x + hh / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(np.mean((np.tanh(x) - act[:, k + 1]) ** 2))
    return np.array(out)


def field(m, n, K):
    return -K + np.tanh(K @ m.T) @ n / m.shape[0]


def rel(a, b):
    return np.sqrt(np.sum((a - b) ** 2) / np.sum(b**2))


def main():
    data, fitdir = sys.argv[1], sys.argv[2]
    t = np.load(data + "/truth.npz")
    meta = json.load(open(data + "/meta.json"))
    act = np.load(data + "/activity.npy").astype(np.float64)
    z = np.load(fitdir + "/fit.npz")
    h = meta["sample_dt"]
    tr = z["train_trials"].astype(int)
    mt, nt = t["m"], t["n"]
    ma, na = z["m_aligned"], z["n_aligned"]
    R = mt.shape[1]
    x0 = np.arctanh(np.clip(act[tr, 0], -0.995, 0.995))
    print(f"training loss (noise variance {meta['noise'] ** 2:.2e}):")
    for name, m, n in [("truth", mt, nt), ("fit", z["m"], z["n"])]:
        for sub in (1, 4):
            e = rk4_loss(m, n, x0, act[tr], h, sub)
            print(f"  {name:5s} RK4 h = {h / sub:.3f}: {e.mean():.4e}  samples 1..10 "
                  f"{e[1:11].mean():.4e}  11..T {e[11:].mean():.4e}")
    P = lambda m, n: (n.T @ m / len(m)).round(3).tolist()
    print(f"overlap E[n mᵀ]: truth {P(mt, nt)}, fit {P(ma, na)}")
    for r in range(R):
        x, y = mt[:, r], ma[:, r]
        parts = []
        for lo, hi in [(0, 1), (1, 2), (2, 2.5), (2.5, 9)]:
            s = (abs(x) >= lo) & (abs(x) < hi)
            if s.sum() > 2:
                parts.append(f"|m| in [{lo}, {hi}): slope {np.sum(x[s] * y[s]) / np.sum(x[s] ** 2):.3f}"
                             f" RMS {np.sqrt(np.mean((y[s] - x[s]) ** 2)):.3f}")
        print(f"  m_{r + 1} fit vs truth: " + "; ".join(parts))
    rad = json.load(open(fitdir + "/model.json"))["latent_radius"]
    g = np.linspace(-rad, rad, 41 if R == 2 else 401)
    G = np.stack(np.meshgrid(*([g] * R)), -1).reshape(-1, R)
    G = G[np.sum(G**2, 1) <= rad**2]
    vis = t["kappa"].reshape(-1, R)
    Ft = field(mt, nt, G)
    print(f"field error vs truth: grid (radius {rad:.3f}) {rel(field(ma, na, G), Ft):.4f}, "
          f"visited states {rel(field(ma, na, vis), field(mt, nt, vis)):.4f}; grid with the true n "
          f"{rel(field(ma, nt, G), Ft):.4f}, with the true m {rel(field(mt, na, G), Ft):.4f}")
    rec = meta["recipe"]
    rho = 12.0 if rec == "tristable" else 1.5
    if rec.startswith("bistable:") and float(rec.split(":")[1]) > 1.5:
        rho = 2.5  # Recipe::ic_radius
    rng = np.random.default_rng(0)
    d = rng.standard_normal((2000, R))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    k0 = d * rho * rng.random((2000, 1)) ** (1 / R)
    xs = k0 @ mt.T + 0.5 * rng.standard_normal((2000, len(mt)))
    guess = np.arctanh(np.clip(np.tanh(xs) + 0.02 * rng.standard_normal(xs.shape), -0.995, 0.995))
    proj = np.linalg.solve(mt.T @ mt, mt.T)
    kt, ke = xs @ proj.T, guess @ proj.T
    print(f"x0 guess: κ(0) estimate = {np.sum(ke * kt) / np.sum(kt * kt):.3f} × true (disk radius "
          f"{rho}); x0 RMS error {np.sqrt(np.mean((guess - xs) ** 2)):.3f}")
    if "--path" in sys.argv:
        for a in [0, 0.25, 0.5, 0.75, 1.0]:
            e = rk4_loss((1 - a) * ma + a * mt, (1 - a) * na + a * nt, x0, act[tr], h)
            print(f"  loss at (1 − α) fit + α truth, α = {a}: {e.mean():.5e}")


if __name__ == "__main__":
    main()
