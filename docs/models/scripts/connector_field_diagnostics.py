#!/usr/bin/env python3
"""Where a Connector route's latent-field error comes from (docs/models/lowrank.md,
"Diagnosis: the particle route"). NumPy only.

usage: connector_field_diagnostics.py FIT_DIR [CONNECTOR_DIR]
  FIT_DIR:       a `neurodyn lowrank fit` folder of simulated data (fit.npz with `align`,
                 model.json naming the truth)
  CONNECTOR_DIR: a `neurodyn connector FIT_DIR` output folder (default FIT_DIR/connector)

Prints, for every set of loadings (in the truth's gauge, through the fit's `align` and the
Connector's `gauge_rotation` when result.json has one) in CONNECTOR_DIR/samples.npz (each route's samples, and the
particle route's raw particles before distillation: all kept chain states and the last one
alone), the relative latent-field error against the truth and against the plain fit on the
metric's grid (the ball of radius model.json's latent_radius, 81 points for R = 1, 21 per axis
for R = 2), the relative drive violation at the grid points, |E[n]|, E[n_r^2], and
corr(n_r, m_s) next to the truth's. Fields are Monte Carlo averages over the samples
themselves, as in `models::lowrank::metrics`.
"""
import json
import sys

import numpy as np


def grid(rank, radius):
    g = 81 if rank == 1 else 21
    axis = np.linspace(-radius, radius, g)
    pts = np.array(np.meshgrid(*([axis] * rank), indexing="ij")).reshape(rank, -1).T
    return pts[np.sum(pts**2, axis=1) <= radius**2 * (1 + 1e-12)]


def field(m, n, K):
    return -K + np.tanh(K @ m.T) @ n / m.shape[0]


def rel(a, b):
    return np.sqrt(np.sum((a - b) ** 2) / np.sum(b**2))


def corr(m, n):
    R = m.shape[1]
    return np.array([[np.corrcoef(n[:, r], m[:, s])[0, 1] for s in range(R)] for r in range(R)])


def main():
    fitdir = sys.argv[1]
    cdir = sys.argv[2] if len(sys.argv) > 2 else fitdir + "/connector"
    model = json.load(open(fitdir + "/model.json"))
    z = np.load(fitdir + "/fit.npz")
    t = np.load(model["truth"])
    A = z["align"]
    res = json.load(open(cdir + "/result.json"))
    rot = res.get("gauge_rotation")
    # the Connector's samples are in the gauge m Q when it rotated the fit (result.json)
    Ac = A if rot is None else np.array(rot).reshape(A.shape).T @ A
    to_truth = lambda m, n: (m @ Ac, n @ np.linalg.inv(Ac).T)
    mt, nt = t["m"], t["n"]
    R = mt.shape[1]
    K = grid(R, model["latent_radius"])
    ft = field(mt, nt, K)
    fm, fn = z["m"] @ A, z["n"] @ np.linalg.inv(A).T
    ff = field(fm, fn, K)
    s = np.load(cdir + "/samples.npz")
    sets = [("plain fit", fm, fn)]
    for key in ("n_gaussian", "n_particles", "n_lagrangian"):
        if key in s:
            sets.append((key[2:], *to_truth(s["m"], s[key])))
    if "particles_m" in s:
        pm, pn = s["particles_m"], s["particles_n"]
        sets.append(("raw particles, all kept", *to_truth(pm, pn)))
        # the last chain state: the final block of rows (snapshot-major)
        snaps = int(res.get("particle_snapshots", 1))
        if snaps > 1:
            per = pm.shape[0] // snaps
            sets.append(("raw particles, last state", *to_truth(pm[-per:], pn[-per:])))
    print(f"truth corr(n, m) {np.round(corr(mt, nt), 3).tolist()}, E[n^2] "
          f"{np.round(np.mean(nt**2, 0), 3).tolist()}, Var(m) {np.round(np.var(mt, 0), 3).tolist()}")
    print(f"{'loadings':28s} {'rows':>6s} {'vs truth':>9s} {'vs fit':>8s} {'|E[n]|':>7s}"
          f" {'E[n^2]':>14s} {'Var(m)':>14s} corr error, corr(n, m)")
    ct = corr(mt, nt)
    for name, m, n in sets:
        f = field(m, n, K)
        c = corr(m, n)
        print(f"{name:28s} {len(m):6d} {100 * rel(f, ft):8.2f}% {100 * rel(f, ff):7.2f}%"
              f" {np.linalg.norm(n.mean(0)):7.3f} {str(np.round(np.mean(n**2, 0), 2).tolist()):>14s}"
              f" {str(np.round(np.var(m, 0), 3).tolist()):>14s} {np.abs(c - ct).max():.3f}"
              f" {np.round(c, 3).ravel().tolist()}")


if __name__ == "__main__":
    main()
