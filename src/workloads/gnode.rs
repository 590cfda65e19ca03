//! The gnODE loss + gradient of the peer benchmark (`../shared/peers/bench_gnode.py`):
//!
//! ```text
//! τ dh/dt = σ(h W_zᵀ + x U_zᵀ + b_z) ⊙ (−h + tanh(h Wᵀ + x Uᵀ + b)),   h(0) = h0,  τ = 1
//! y = h W_oᵀ + b_o,    loss = mean over 50 times t_k = 0.2 k and the batch of (y(t_k) − ŷ_k)²
//! ```
//!
//! batch `B` (32), hidden `N`, two inputs piecewise constant on 20 segments of 0.5 over
//! [0, 10] (jump times at the segment boundaries), RK4 with `steps` steps (200: dt = 0.05) or an
//! adaptive method at rtol 1e-5, atol 1e-7; any gradient mode. With `threads > 1` the batch is
//! split into that many shards, each on its own tape (rayon), and the gradients are summed.
//!
//! FLOP count (stated for the FLOP rate): each right-hand-side evaluation does two `B × N × N`
//! products forward (gate and flow; the input terms are computed once per segment), and in
//! backprop two more for `∂h` and two for `∂W`: `12 B N²` per evaluation, times the evaluations
//! the forward solve made. Elementwise work (`O(B N)`) is not counted.

use super::{RunOutput, Workload, WorkloadError};
use crate::Float;
use crate::models::gnode::{Gnode, GnodeConfig, GnodeOde, GnodeOdeParams};
use crate::parallel::par_map;
use crate::solve::{Dynamics, GradMode, Method, SolveOptions, solve_on_tape, solve_with_grad};
use crate::tape::{Grads, Tape, Var};
use rand_distr::{Distribution, StandardNormal};

/// Input segments over [0, 10].
pub const SEGMENTS: usize = 20;
/// Readout times.
pub const SAVES: usize = 50;
/// End of the time interval.
pub const T_END: f64 = 10.0;

/// What to build: sizes, solver, gradient mode and parallelism.
#[derive(Clone, Debug, PartialEq)]
pub struct GnodeGradSpec {
    /// Hidden size `N`.
    pub n: usize,
    /// Batch size `B`.
    pub batch: usize,
    /// Solver: RK4 (fixed, `steps` steps) or an adaptive method (rtol 1e-5, atol 1e-7).
    pub method: Method,
    /// Fixed steps over [0, 10] (fixed methods only; a multiple of 20 keeps every step inside
    /// one input segment).
    pub steps: usize,
    /// Gradient mode.
    pub mode: GradMode,
    /// Batch shards computed in parallel.
    pub threads: usize,
    /// Seed of the parameters and data.
    pub seed: u64,
}

impl Default for GnodeGradSpec {
    fn default() -> Self {
        Self {
            n: 32,
            batch: 32,
            method: Method::Rk4,
            steps: 200,
            mode: GradMode::Backprop,
            threads: 1,
            seed: 0,
        }
    }
}

impl GnodeGradSpec {
    /// The workload's name for scalar type `dtype`:
    /// `gnode_grad/{dtype}/{method}[_{steps}]/{mode}/N={n}[/B={batch}][/threads={t}]`.
    pub fn name(&self, dtype: &str) -> String {
        let method = if self.method.is_adaptive() {
            self.method.name().to_string()
        } else {
            format!("{}_{}", self.method.name(), self.steps)
        };
        let batch = if self.batch != 32 {
            format!("/B={}", self.batch)
        } else {
            String::new()
        };
        let threads = if self.threads > 1 {
            format!("/threads={}", self.threads)
        } else {
            String::new()
        };
        format!(
            "gnode_grad/{dtype}/{method}/{}/N={}{batch}{threads}",
            self.mode.name(),
            self.n
        )
    }
}

/// One batch shard: its inputs, targets, tape and gradient buffer.
struct Shard<T: Float> {
    rows: usize,
    x: Vec<T>,
    targets: Vec<T>,
    tape: Tape<T>,
    grads: Grads<T>,
}

/// The gnODE loss + gradient workload.
pub struct GnodeGrad<T: Float> {
    spec: GnodeGradSpec,
    model: Gnode<T>,
    opts: SolveOptions<T>,
    shards: Vec<Shard<T>>,
    grads: Grads<T>,
    evals: usize,
}

impl<T: Float> GnodeGrad<T> {
    /// Builds the model (the peer's initial scales), inputs and targets from `spec.seed`.
    ///
    /// # Errors
    /// Zero sizes, threads or steps, or more threads than batch rows.
    pub fn new(spec: &GnodeGradSpec) -> Result<Self, WorkloadError> {
        if spec.n == 0 || spec.batch == 0 || spec.steps == 0 || spec.threads == 0 {
            return Err(WorkloadError(
                "n, batch, steps and threads must be at least 1".into(),
            ));
        }
        if spec.threads > spec.batch {
            return Err(WorkloadError(format!(
                "{} threads for a batch of {}: at most one shard per row",
                spec.threads, spec.batch
            )));
        }
        let model = peer_model::<T>(spec.n, spec.seed)?;
        let mut r = crate::rng::stream(spec.seed, 1);
        let mut normal = |k: usize| -> Vec<T> {
            (0..k)
                .map(|_| T::from_f64(StandardNormal.sample(&mut r)))
                .collect()
        };
        let (b, i, o) = (spec.batch, 2, 2);
        let x = normal(SEGMENTS * b * i);
        let targets = normal(SAVES * b * o);
        let mut shards = Vec::with_capacity(spec.threads);
        let mut lo = 0;
        for s in 0..spec.threads {
            let rows = b / spec.threads + usize::from(s < b % spec.threads);
            shards.push(Shard {
                rows,
                x: rows_of(&x, SEGMENTS, b, i, lo, rows),
                targets: rows_of(&targets, SAVES, b, o, lo, rows),
                tape: Tape::new(),
                grads: model.store().zeros_like(),
            });
            lo += rows;
        }
        let grads = model.store().zeros_like();
        Ok(Self {
            opts: options(spec.method, spec.steps),
            spec: spec.clone(),
            model,
            shards,
            grads,
            evals: 0,
        })
    }

    /// The summed gradient of the last run.
    pub fn grads(&self) -> &Grads<T> {
        &self.grads
    }

    /// The model (parameters by name in its store).
    pub fn model(&self) -> &Gnode<T> {
        &self.model
    }

    /// The inputs as `[segment][batch][2]` and the targets as `[save][batch][2]` (all shards,
    /// in batch order), to export the problem for another implementation.
    pub fn data(&self) -> (Vec<T>, Vec<T>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (k, out, per) in [(SEGMENTS, &mut x, 0), (SAVES, &mut y, 1)] {
            for t in 0..k {
                for sh in &self.shards {
                    let src = if per == 0 { &sh.x } else { &sh.targets };
                    out.extend_from_slice(&src[t * sh.rows * 2..(t + 1) * sh.rows * 2]);
                }
            }
        }
        (x, y)
    }
}

/// Rows `lo..lo + rows` of a time-major `[k][b][c]` array.
fn rows_of<T: Copy>(a: &[T], k: usize, b: usize, c: usize, lo: usize, rows: usize) -> Vec<T> {
    (0..k)
        .flat_map(|t| a[(t * b + lo) * c..(t * b + lo + rows) * c].iter().copied())
        .collect()
}

/// The peer's model: gate and flow `N × N` (scales 1/√N and 1.2/√N), inputs, readout, `h0`.
fn peer_model<T: Float>(n: usize, seed: u64) -> Result<Gnode<T>, WorkloadError> {
    let cfg = GnodeConfig {
        hidden: n,
        inputs: 2,
        outputs: 2,
        flow: vec![],
        gate: true,
        tau: 1.0,
        ..Default::default()
    };
    let mut r = crate::rng::stream(seed, 0);
    let mut model = Gnode::<T>::new(cfg, &mut r)?;
    let sn = 1.0 / (n as f64).sqrt();
    let scales = [
        ("flow.0.W", 1.2 * sn),
        ("flow.0.U", 1.0),
        ("flow.0.b", 0.1),
        ("gate.W", sn),
        ("gate.U", 0.5),
        ("gate.b", 0.5),
        ("readout.W", sn),
        ("readout.b", 0.1),
        ("h0", 0.5),
    ];
    for (name, s) in scales {
        let id = model
            .store()
            .id(name)
            .ok_or_else(|| WorkloadError(format!("internal: no parameter {name}")))?;
        for v in model.store_mut().get_mut(id) {
            *v = T::from_f64(
                s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut r),
            );
        }
    }
    Ok(model)
}

/// RK4 with `steps` steps, or an adaptive method at rtol 1e-5, atol 1e-7 (first step 0.05);
/// saves at 0.2 k, jump times at the segment boundaries.
fn options<T: Float>(method: Method, steps: usize) -> SolveOptions<T> {
    let save_at: Vec<T> = (1..=SAVES)
        .map(|k| T::from_f64(T_END * k as f64 / SAVES as f64))
        .collect();
    let jump_times: Vec<T> = (1..SEGMENTS)
        .map(|k| T::from_f64(T_END * k as f64 / SEGMENTS as f64))
        .collect();
    if method.is_adaptive() {
        SolveOptions {
            save_at,
            jump_times,
            h0: Some(T::from_f64(0.05)),
            ..SolveOptions::adaptive(method, T::from_f64(1e-5), T::from_f64(1e-7))
        }
    } else {
        SolveOptions {
            save_at,
            jump_times,
            ..SolveOptions::fixed(method, T::from_f64(T_END / steps as f64))
        }
    }
}

/// `Σ (y − ŷ)² / count` of one save point, as a `1 × 1` node.
pub(crate) fn save_term<T: Float>(
    tape: &mut Tape<T>,
    model: &Gnode<T>,
    p: &GnodeOdeParams,
    h: Var,
    target: &[T],
    norm: T,
) -> Var {
    let y = model.readout(tape, &p.vars, h);
    let (r, c) = tape.shape(y);
    let t = tape.constant(r, c, target);
    let d = tape.sub(y, t);
    let s = tape.square(d);
    let s = tape.sum(s);
    tape.scale(s, norm)
}

/// Loss and gradient of one shard (gradients into `sh.grads`, zeroed first).
fn shard_grad<T: Float>(
    model: &Gnode<T>,
    opts: &SolveOptions<T>,
    mode: GradMode,
    norm: T,
    sh: &mut Shard<T>,
) -> Result<RunOutput, WorkloadError> {
    sh.grads.zero();
    let ode = GnodeOde::new(
        model,
        &sh.x,
        sh.rows,
        SEGMENTS,
        T::from_f64(T_END / SEGMENTS as f64),
    );
    let per = sh.rows * 2;
    let (loss, stats) = if mode == GradMode::Backprop {
        let tape = &mut sh.tape;
        tape.clear();
        let p = ode.record(tape);
        let h0 = model.initial_state(tape, &p.vars, None, sh.rows);
        let (saved, _, stats) =
            solve_on_tape(tape, &ode, p.clone(), h0, T::ZERO, T::from_f64(T_END), opts)?;
        let st = tape.concat_rows(&saved);
        let l = save_term(tape, model, &p, st, &sh.targets, norm);
        tape.backward(l);
        tape.accumulate_param_grads(&mut sh.grads);
        let mut stats = stats;
        stats.peak_values = tape.num_values() + tape.num_grad_values();
        (tape.scalar(l).to_f64(), stats)
    } else {
        let targets = &sh.targets;
        let sol = solve_with_grad(
            &ode,
            |t, p| model.initial_state(t, &p.vars, None, sh.rows),
            |t, p, k, h| save_term(t, model, p, h, &targets[k * per..(k + 1) * per], norm),
            T::ZERO,
            T::from_f64(T_END),
            opts,
            mode,
            &mut sh.grads,
        )?;
        (sol.loss.to_f64(), sol.stats)
    };
    Ok(RunOutput {
        loss,
        steps: stats.steps,
        rhs_evals: stats.rhs_evals,
        peak_values: stats.peak_values,
    })
}

impl<T: Float> Workload for GnodeGrad<T> {
    fn name(&self) -> String {
        self.spec.name(T::NAME)
    }

    /// Counted for backprop only (the other modes recompute or solve a different system).
    fn flops(&self) -> Option<f64> {
        let (b, n) = (self.spec.batch as f64, self.spec.n as f64);
        (self.evals > 0).then_some(12.0 * b * n * n * self.evals as f64)
    }

    fn scalar_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }

    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let norm = T::ONE / T::from_usize(SAVES * self.spec.batch * 2);
        let (model, opts, mode) = (&self.model, &self.opts, self.spec.mode);
        let outs: Vec<Result<RunOutput, WorkloadError>> = if self.shards.len() == 1 {
            vec![shard_grad(model, opts, mode, norm, &mut self.shards[0])]
        } else {
            par_map(&mut self.shards, |_, sh| {
                shard_grad(model, opts, mode, norm, sh)
            })
        };
        self.grads.zero();
        let mut total = RunOutput::default();
        for (o, sh) in outs.into_iter().zip(&self.shards) {
            let o = o?;
            self.grads.add_assign(&sh.grads);
            total.loss += o.loss;
            total.peak_values += o.peak_values;
            if total.steps == 0 {
                (total.steps, total.rhs_evals) = (o.steps, o.rhs_evals);
            }
        }
        if mode == GradMode::Backprop {
            self.evals = total.rhs_evals;
        }
        Ok(total)
    }
}
