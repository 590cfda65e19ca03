#!/usr/bin/env python
"""neurodyn against JAX on the same gnODE problems, side by side in one run; prints markdown.

usage: python compare.py --neurodyn target/release/neurodyn [--sizes 32,128,512] [--reps 20]
                         [--peers ../shared/peers] [--gen-cases DIR] [--process-only]

Run it with the Python that has JAX and diffrax (see ../shared/peers/README.md), pinned to one
core for single-core figures:

  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
      taskset -c 0 .venv-peers/bin/python benches/peers/compare.py --neurodyn target/release/neurodyn

What it measures, alternating neurodyn and JAX for each size so that both see the same load:
1. gnODE loss + gradient (batch 32, t in [0, 10], 20 input segments, 50 readouts) on exactly
   neurodyn's benchmark problem (`neurodyn bench --export-cases`): RK4 with 200 steps (JAX: a
   `lax.scan`) and dopri5 at rtol 1e-5, atol 1e-7 (JAX: diffrax's Dopri5 with jump times),
   f32 and f64; neurodyn's times are `neurodyn bench peer` in backprop and checkpointed mode (the
   ratio takes the faster), JAX's is the jit-compiled call (`same_problem.py`). The losses must agree (1e-9 relative in f64) before times count.
2. dopri5 step counts (accepted steps) of both.
3. `neurodyn grad CASE.json` as a whole process (start-up, JSON in and out) against JAX's
   compiled call alone (`jax_gnode_case.py` of the peers folder), on the generator's cases
   (`--gen-cases`, from `make_gnode_cases.py`) when given, else on the exported ones;
   neurodyn's REPS calls run before and REPS after JAX's, the median of all of them is
   reported, and the ratio to three decimals (the target sits at 0.5). Two ways:
   "one core each": both keep this script's affinity (one core, pinned as above), neurodyn
   with `--threads 1`, JAX with this script's XLA_FLAGS (one thread);
   "defaults, every core": both on all the machine's cores with their default settings
   (neurodyn's `--threads 2` batch shards; JAX without XLA_FLAGS).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--neurodyn", required=True)
ap.add_argument("--sizes", default="32,128,512")
ap.add_argument("--reps", type=int, default=20)
ap.add_argument("--peers", default=os.path.join(os.path.dirname(__file__), "../../../shared/peers"))
ap.add_argument("--gen-cases", default=None)
ap.add_argument("--grad-sizes", default="32,128")
ap.add_argument("--process-only", action="store_true",
                help="only the whole-process comparison (part 3)")
args = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
sizes = [int(s) for s in args.sizes.split(",")]


def run_json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def ours(dtype, n, method, mode="backprop"):
    name = f"gnode_grad/{dtype}/{'rk4_200' if method == 'rk4' else 'dopri5'}/{mode}/N={n}"
    out = subprocess.run(
        [args.neurodyn, "bench", "peer", "--filter", name, "--json", "--quiet",
         "--runs", str(args.reps), "--min-time", "0"],
        check=True, capture_output=True, text=True).stdout
    rows = [r for r in json.loads(out)["results"] if r["name"] == name]
    return rows[0]


def jax_same(case, dtype, method):
    rec = run_json_lines([sys.executable, os.path.join(here, "same_problem.py"), case,
                          "--dtype", dtype, "--reps", str(args.reps), "--methods", method])
    return rec[0]


ALL_CORES = set(range(os.cpu_count()))


def every_core():
    os.sched_setaffinity(0, ALL_CORES)


def whole_process(case, reps, one_core):
    """Times `neurodyn grad CASE.json`; returns the times and the printed loss."""
    ts = []
    cmd = [args.neurodyn, "grad", case] + (["--threads", "1"] if one_core else [])
    for _ in range(reps):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True,
                             preexec_fn=None if one_core else every_core).stdout
        ts.append(time.perf_counter() - t0)
    return ts, json.loads(out)["loss"]


def jax_case(case, reps, one_core):
    env = dict(os.environ)
    if not one_core:
        env.pop("XLA_FLAGS", None)
    out = subprocess.run([sys.executable, os.path.join(args.peers, "jax_gnode_case.py"), case,
                          str(reps)], check=True, capture_output=True, text=True, env=env,
                         preexec_fn=None if one_core else every_core).stdout
    return dict(line.split() for line in out.splitlines() if len(line.split()) == 2)


tmp = tempfile.mkdtemp(prefix="nd-peer-")
subprocess.run([args.neurodyn, "bench", "--export-cases", tmp, "--export-sizes", args.sizes,
                "--quiet"], check=True)
print(f"machine: {os.uname().machine}, {os.cpu_count()} logical cores; "
      f"affinity {sorted(os.sched_getaffinity(0))}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
print()
print("| dtype | N | method | neurodyn backprop median (min) | neurodyn checkpointed median (min) | "
      "JAX median (min) | ratio of medians, faster mode (mins) | dopri5 steps neurodyn / JAX | "
      "loss neurodyn / JAX |")
print("|---|---|---|---|---|---|---|---|---|")
for dtype in [] if args.process_only else ["f32", "f64"]:
    for n in sizes:
        case = os.path.join(tmp, f"peer_gnode_n{n}.json")
        for method in ["rk4", "dopri5"]:
            a = ours(dtype, n, method)
            c = ours(dtype, n, method, "checkpointed")
            b = jax_same(case, dtype, method)
            tol = 1e-9 if dtype == "f64" and method == "rk4" else 1e-4
            ok = all(abs(x["loss"] - b["loss"]) <= tol * abs(b["loss"]) for x in (a, c))
            steps = f"{a['steps']} / {b['accepted']}" if method == "dopri5" else ""
            best = min((a, c), key=lambda x: x["median_s"])
            print(f"| {dtype} | {n} | {method} | {a['median_s'] * 1e3:.2f} ms ({a['min_s'] * 1e3:.2f}) | "
                  f"{c['median_s'] * 1e3:.2f} ms ({c['min_s'] * 1e3:.2f}) | "
                  f"{b['median_s'] * 1e3:.2f} ms ({b['min_s'] * 1e3:.2f}) | "
                  f"{best['median_s'] / b['median_s']:.2f} ({best['min_s'] / b['min_s']:.2f}) | {steps} | "
                  f"{a['loss']:.10g} / {b['loss']:.10g}{'' if ok else ' MISMATCH'} |", flush=True)

print()
print("| case | cores | `neurodyn grad` whole process median (min) | JAX compiled call median | ratio | "
      "loss neurodyn / JAX |")
print("|---|---|---|---|---|---|")
for n in [int(s) for s in args.grad_sizes.split(",")]:
    case = (os.path.join(args.gen_cases, f"gnode_n{n}.json") if args.gen_cases
            else os.path.join(tmp, f"peer_gnode_n{n}.json"))
    for one_core in [True, False]:
        # neurodyn's calls both before and after JAX's, so that a drift of the machine's speed
        # during the comparison weighs on both sides alike
        ts, loss = whole_process(case, args.reps, one_core)
        jx = jax_case(case, args.reps, one_core)
        ts += whole_process(case, args.reps, one_core)[0]
        med, low = statistics.median(ts), min(ts)
        jmed, jloss = float(jx["median_s"]), float(jx["loss"])
        ok = abs(loss - jloss) <= 1e-9 * abs(jloss)
        cores = "one each" if one_core else f"defaults, all {len(ALL_CORES)}"
        print(f"| {os.path.basename(case)} | {cores} | {med * 1e3:.1f} ms ({low * 1e3:.1f}) | "
              f"{jmed * 1e3:.1f} ms | {med / jmed:.3f} | "
              f"{loss:.12g} / {jloss:.12g}{'' if ok else ' MISMATCH'} |", flush=True)
