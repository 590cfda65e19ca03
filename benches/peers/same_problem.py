#!/usr/bin/env python
"""JAX on exactly neurodyn's gnODE benchmark problem.

Reads a gnode case written by `neurodyn bench --export-cases DIR` (single tanh layer F, sigmoid
gate, piecewise-constant inputs, MSE on the readout at the target times) and times, jit-compiled,
the loss and its gradient with respect to every parameter:

  rk4    : classical RK4 with the case's fixed step, written as a `lax.scan` (backprop through
           the steps), the fastest way to write it in JAX;
  dopri5 : diffrax's Dopri5 with a PID controller (rtol 1e-5, atol 1e-7) clipped at the input
           jumps, saving at the target times, dt0 = the case's step, default adjoint
           (recursive checkpointing); also prints its step counts.

It prints one JSON line per method: loss, median and minimum seconds over `--reps` calls after
compilation and a warm-up call, and for dopri5 the accepted and rejected steps. Compare the loss
with `neurodyn grad CASE.json` before comparing times.

usage: python same_problem.py CASE.json --dtype f32|f64 [--reps 20] [--methods rk4,dopri5]
Set-up: see ../shared/peers/README.md (jax, jaxlib, diffrax, equinox). For single-core
numbers: XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" taskset -c 0
"""
import argparse
import json
import time

ap = argparse.ArgumentParser()
ap.add_argument("case")
ap.add_argument("--dtype", choices=["f32", "f64"], default="f64")
ap.add_argument("--reps", type=int, default=20)
ap.add_argument("--methods", default="rk4,dopri5")
args = ap.parse_args()

import jax

jax.config.update("jax_enable_x64", args.dtype == "f64")
import diffrax
import jax.numpy as jnp
import numpy as np

FT = jnp.float64 if args.dtype == "f64" else jnp.float32
case = json.load(open(args.case))
model, data, solver = case["model"], case["data"], case["solver"]
assert model["kind"] == "gnode" and model["gate"] and not model["flow"], "a peer_gnode case"
params = {k: jnp.asarray(np.asarray(v, dtype=np.float64), dtype=FT) for k, v in case["params"].items()}
inputs = jnp.asarray(np.asarray(data["inputs"]), dtype=FT)  # [B, segments, I]
targets = jnp.asarray(np.asarray(data["targets"]), dtype=FT)  # [B, J, O]
times = np.asarray(data["target_times"])
seg = float(data["input_dt"])
dt = float(solver["dt"])
t_end = float(times[-1])
segments = inputs.shape[1]
steps = int(round(t_end / dt))
per_seg = int(round(seg / dt))
save_step = np.array([int(round(t / dt)) for t in times])  # step count after which to read


def field(p, h, x):
    gate = jax.nn.sigmoid(h @ p["gate.W"].T + x @ p["gate.U"].T + p["gate.b"])
    flow = jnp.tanh(h @ p["flow.0.W"].T + x @ p["flow.0.U"].T + p["flow.0.b"])
    return gate * (flow - h) / model["tau"]


def h0_of(p):
    return jnp.broadcast_to(p["h0"], (inputs.shape[0], p["h0"].shape[-1]))


def mse(p, hs):  # hs: [J, B, N]
    y = hs @ p["readout.W"].T + p["readout.b"]
    return jnp.mean((jnp.swapaxes(y, 0, 1) - targets) ** 2)


def loss_rk4(p):
    x_per_step = jnp.repeat(jnp.swapaxes(inputs, 0, 1), per_seg, axis=0)[:steps]

    def one(h, x):
        k1 = field(p, h, x)
        k2 = field(p, h + (0.5 * dt) * k1, x)
        k3 = field(p, h + (0.5 * dt) * k2, x)
        k4 = field(p, h + dt * k3, x)
        h = h + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return h, h

    _, hs = jax.lax.scan(one, h0_of(p), x_per_step)  # [steps, B, N]
    return mse(p, hs[save_step - 1])


def dopri5_solution(p):
    def vf(t, h, _):
        k = jnp.clip(jnp.floor(t / seg).astype(jnp.int32), 0, segments - 1)
        return field(p, h, inputs[:, k, :])

    jumps = jnp.asarray(np.arange(1, segments) * seg, dtype=FT)
    ctrl = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=1e-5, atol=1e-7), jump_ts=jumps)
    return diffrax.diffeqsolve(
        diffrax.ODETerm(vf), diffrax.Dopri5(), t0=0.0, t1=t_end, dt0=dt, y0=h0_of(p),
        saveat=diffrax.SaveAt(ts=jnp.asarray(times, dtype=FT)), stepsize_controller=ctrl,
        max_steps=100_000)


def loss_dopri5(p):
    return mse(p, dopri5_solution(p).ys)


def timed(f):
    out = f(params)
    jax.block_until_ready(out)  # compile
    jax.block_until_ready(f(params))  # warm-up
    ts = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        jax.block_until_ready(f(params))
        ts.append(time.perf_counter() - t0)
    return out, float(np.median(ts)), float(min(ts))


for method in args.methods.split(","):
    fn = {"rk4": loss_rk4, "dopri5": loss_dopri5}[method]
    (loss, _), med, low = timed(jax.jit(jax.value_and_grad(fn)))
    rec = {"N": int(params["gate.W"].shape[0]), "dtype": args.dtype, "method": method,
           "loss": float(loss), "median_s": med, "min_s": low, "reps": args.reps}
    if method == "dopri5":
        st = jax.jit(lambda p: dopri5_solution(p).stats)(params)
        rec["accepted"] = int(st["num_accepted_steps"])
        rec["rejected"] = int(st["num_rejected_steps"])
    print(json.dumps(rec), flush=True)
