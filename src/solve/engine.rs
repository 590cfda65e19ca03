//! The explicit Runge–Kutta engine: fixed and adaptive stepping, stops, saves, dense output.
//!
//! It runs on a tape in one of three modes: `Keep` records every accepted stage (backprop),
//! `Compact` rewinds the tape after each accepted step and keeps only the state (no gradients,
//! O(1) memory), `Replay` re-takes a recorded list of steps (checkpoint recomputation) with the
//! same arithmetic as the forward pass, so its gradients equal backprop's.

use super::controller::{Pi, initial_step};
use super::interp;
use super::tableau::Tableau;
use super::{Dynamics, SolveError, SolveOptions, SolveStats, Stage};
use crate::Float;
use crate::tape::{Tape, Var};

/// A right-hand side evaluated on a tape.
pub(crate) trait Rhs<T: Float> {
    /// Records `f(at, y)`.
    fn eval(&mut self, tape: &mut Tape<T>, at: Stage<T>, y: Var) -> Var;
    /// Records `f(at, Σ c_i y_i)` ([`Dynamics::rhs_comb`]).
    fn eval_comb(&mut self, tape: &mut Tape<T>, at: Stage<T>, terms: &[(Var, T)]) -> Var {
        let y = tape.lin_comb(terms);
        self.eval(tape, at, y)
    }
}

/// A [`Dynamics`] with its parameters recorded on the tape in use.
pub(crate) struct DynRhs<'a, T: Float, D: Dynamics<T>> {
    pub(crate) d: &'a D,
    pub(crate) p: D::Params,
}

impl<T: Float, D: Dynamics<T>> Rhs<T> for DynRhs<'_, T, D> {
    fn eval(&mut self, tape: &mut Tape<T>, at: Stage<T>, y: Var) -> Var {
        self.d.rhs(tape, &self.p, at, y)
    }
    fn eval_comb(&mut self, tape: &mut Tape<T>, at: Stage<T>, terms: &[(Var, T)]) -> Var {
        self.d.rhs_comb(tape, &self.p, at, terms)
    }
}

/// Receives saved states and accepted steps.
pub(crate) trait Observer<T: Float> {
    /// The state at save point `j` (valid on the tape until the engine rewinds in `Compact`
    /// mode: copy what you need).
    fn save(&mut self, tape: &mut Tape<T>, j: usize, y: Var);
    /// An accepted step and its end state.
    fn step(&mut self, _tape: &Tape<T>, _rec: &StepRecord<T>, _y_new: Var) {}
}

/// One accepted step, enough to re-take it exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct StepRecord<T> {
    /// Start time.
    pub(crate) t: T,
    /// End time (exactly the stop time when the step landed on one).
    pub(crate) t_next: T,
    /// Step size used for the stages.
    pub(crate) h: T,
    /// Whether `k1` was evaluated afresh (first step, after a jump, non-FSAL method) rather
    /// than taken from the previous step's last stage.
    pub(crate) fresh_k1: bool,
    /// Start of the previous step (the stage of a reused `k1` belongs to it).
    pub(crate) prev_start: T,
}

/// How the engine treats the tape.
pub(crate) enum Mode<'r, T> {
    /// Record everything (backprop).
    Keep,
    /// Keep only the current state (no gradients).
    Compact,
    /// Re-take these steps.
    Replay(&'r [StepRecord<T>]),
}

/// Stop points between `t0` and `t1` (exclusive of `t0`), in the direction of integration,
/// each marked as a jump (inputs change there) or not.
pub(crate) fn stops<T: Float>(opts: &SolveOptions<T>, t0: T, t1: T) -> Vec<(T, bool)> {
    let dir = if t1 >= t0 { T::ONE } else { -T::ONE };
    let inside = |s: T| dir * (s - t0) > T::ZERO && dir * (t1 - s) > T::ZERO;
    let mut v: Vec<(T, bool)> = opts
        .jump_times
        .iter()
        .copied()
        .filter(|&s| inside(s))
        .map(|s| (s, true))
        .collect();
    if opts.is_fixed() {
        v.extend(
            opts.save_at
                .iter()
                .copied()
                .filter(|&s| inside(s))
                .map(|s| (s, false)),
        );
    }
    v.sort_by(|a, b| {
        (dir * a.0)
            .partial_cmp(&(dir * b.0))
            .expect("internal: finite times")
    });
    // merge duplicates, a jump wins
    let mut out: Vec<(T, bool)> = Vec::with_capacity(v.len() + 1);
    for (s, j) in v {
        match out.last_mut() {
            Some(last) if last.0 == s => last.1 |= j,
            _ => out.push((s, j)),
        }
    }
    out.push((t1, false));
    out
}

/// Number of equal fixed steps of about `dt` covering `len` (exactly `len/dt` when `dt` divides
/// it up to rounding: 1e-9 relative, or 64 ulps of `T`, whichever is larger; in f32, 0.2/0.05
/// is 4.0000002 and must give 4 steps, not 5).
pub(crate) fn fixed_steps<T: Float>(len: T, dt: T) -> usize {
    let r = (len / dt).abs().to_f64();
    let n = r.round();
    let tol = 1e-9f64.max(64.0 * T::EPSILON.to_f64());
    let n = if (r - n).abs() <= tol * r.max(1.0) {
        n
    } else {
        r.ceil()
    };
    (n as usize).max(1)
}

/// Number of fixed steps the engine takes from `t` to the next stop `stop`: steps of about
/// `opts.dt`, or one step where a fixed-step method has no `dt`.
pub(crate) fn fixed_steps_to<T: Float>(opts: &SolveOptions<T>, t: T, stop: T) -> usize {
    let dt = opts.dt.unwrap_or(stop - t).abs();
    fixed_steps(stop - t, dt)
}

/// The engine's state during one integration.
pub(crate) struct Integrator<'o, T: Float> {
    pub(crate) tab: &'static Tableau,
    pub(crate) opts: &'o SolveOptions<T>,
    pub(crate) stats: SolveStats,
    dir: T,
    ks: Vec<Var>,
    terms: Vec<(Var, T)>,
    err_buf: Vec<T>,
    y_buf: Vec<T>,
    k_buf: Vec<T>,
    js: usize,
    last_h: Option<T>,
}

impl<'o, T: Float> Integrator<'o, T> {
    pub(crate) fn new(opts: &'o SolveOptions<T>, t0: T, t1: T) -> Self {
        let dir = if t1 >= t0 { T::ONE } else { -T::ONE };
        let js = opts.save_at.partition_point(|&s| dir * (s - t0) <= T::ZERO);
        Self {
            tab: opts.method.tableau(),
            opts,
            stats: SolveStats::default(),
            dir,
            ks: Vec::new(),
            terms: Vec::new(),
            err_buf: Vec::new(),
            y_buf: Vec::new(),
            k_buf: Vec::new(),
            js,
            last_h: None,
        }
    }

    /// The step the controller proposed after the last accepted step (adaptive runs).
    pub(crate) fn last_h(&self) -> Option<T> {
        self.last_h
    }

    /// One RK step from `(t, y)` with stage `k1`; returns `y_new` and leaves the stages in
    /// `self.ks`.
    #[allow(clippy::too_many_arguments)]
    fn rk_step<R: Rhs<T>>(
        &mut self,
        tape: &mut Tape<T>,
        rhs: &mut R,
        t: T,
        t_next: T,
        h: T,
        y: Var,
        k1: Var,
    ) -> Var {
        let tab = self.tab;
        let s = tab.stages();
        self.ks.clear();
        self.ks.push(k1);
        let mut y_new = None;
        for i in 1..s {
            self.terms.clear();
            self.terms.push((y, T::ONE));
            for (j, &a) in tab.a[i].iter().enumerate() {
                if a != 0.0 {
                    self.terms.push((self.ks[j], h * T::from_f64(a)));
                }
            }
            let last = tab.fsal && i == s - 1;
            let ti = if last {
                t_next
            } else {
                t + h * T::from_f64(tab.c[i])
            };
            let at = Stage {
                t: ti,
                step_start: t,
                step_end: t_next,
            };
            // The stage state is recorded only where it is also the new state (FSAL); else
            // the right-hand side takes the combination (and may keep it off the tape).
            let k = if last {
                let yi = tape.lin_comb(&self.terms);
                y_new = Some(yi);
                rhs.eval(tape, at, yi)
            } else {
                rhs.eval_comb(tape, at, &self.terms)
            };
            self.ks.push(k);
        }
        self.stats.rhs_evals += s - 1;
        match y_new {
            Some(v) => v,
            None => {
                self.terms.clear();
                self.terms.push((y, T::ONE));
                for (i, &b) in tab.b.iter().enumerate() {
                    if b != 0.0 {
                        self.terms.push((self.ks[i], h * T::from_f64(b)));
                    }
                }
                tape.lin_comb(&self.terms)
            }
        }
    }

    /// RMS error norm of the embedded estimate, scaled by `atol + rtol max(|y|, |y_new|)`.
    fn error_norm(&mut self, tape: &Tape<T>, h: T, y: Var, y_new: Var) -> T {
        let (yv, yn) = (tape.value(y), tape.value(y_new));
        let n = yv.len();
        self.err_buf.clear();
        self.err_buf.resize(n, T::ZERO);
        for (i, &e) in self.tab.e.iter().enumerate() {
            if e != 0.0 {
                crate::dense::axpy(
                    &mut self.err_buf,
                    h * T::from_f64(e),
                    tape.value(self.ks[i]),
                );
            }
        }
        if n == 0 {
            return T::ZERO;
        }
        let (rtol, atol) = (self.opts.rtol, self.opts.atol);
        let mut s = T::ZERO;
        for ((&e, &a), &b) in self.err_buf.iter().zip(yv).zip(yn) {
            let r = e / (atol + rtol * a.abs().max(b.abs()));
            s += r * r;
        }
        (s / T::from_usize(n)).sqrt()
    }

    /// Emits the saves that fall in `(t, t_next]`.
    #[allow(clippy::too_many_arguments)]
    fn emit_saves<O: Observer<T>>(
        &mut self,
        tape: &mut Tape<T>,
        obs: &mut O,
        t: T,
        t_next: T,
        h: T,
        y: Var,
        y_new: Var,
    ) {
        let saves = &self.opts.save_at;
        while self.js < saves.len() && self.dir * (saves[self.js] - t_next) <= T::ZERO {
            let s = saves[self.js];
            let v = if s == t_next {
                y_new
            } else {
                let theta = (s - t) / h;
                interp::dense(
                    tape,
                    self.tab,
                    h,
                    theta,
                    y,
                    y_new,
                    &self.ks,
                    &mut self.terms,
                )
            };
            obs.save(tape, self.js, v);
            self.js += 1;
        }
    }

    /// Integrates from `(t0, y0)` to `t1`. `y0` must be on the tape before any node this call
    /// records; in `Compact` mode everything after it is rewound step by step.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<R: Rhs<T>, O: Observer<T>>(
        &mut self,
        tape: &mut Tape<T>,
        rhs: &mut R,
        obs: &mut O,
        t0: T,
        t1: T,
        y0: Var,
        mode: Mode<'_, T>,
    ) -> Result<Var, SolveError> {
        if !tape.value(y0).iter().all(|v| v.is_finite()) {
            return Err(SolveError::NonFinite { t: t0.to_f64() });
        }
        if let Mode::Replay(recs) = mode {
            return self.replay(tape, rhs, obs, y0, recs);
        }
        let compact = matches!(mode, Mode::Compact);
        let (rows, cols) = tape.shape(y0);
        let base = tape.mark();
        let stop_list = stops(self.opts, t0, t1);
        let fixed = self.opts.is_fixed();
        let dir = self.dir;
        let (mut t, mut y) = (t0, y0);
        let mut k1: Option<Var> = None;
        // Whether `k1` was evaluated at the start of the current step (first step, after a
        // jump, or after a rejection of such a step) rather than carried over as the previous
        // step's last stage: the replay must know which input bin it belongs to.
        let mut k1_fresh = false;
        let mut prev_start = t0;
        let mut pi = Pi::new(
            self.tab.err_order.unwrap_or(self.tab.order),
            self.opts.controller,
        );
        let mut h = T::ZERO;
        if t0 == t1 {
            return Ok(y0);
        }
        if !fixed {
            let first_stop = stop_list[0].0;
            let k = rhs.eval(
                tape,
                Stage {
                    t: t0,
                    step_start: t0,
                    step_end: first_stop,
                },
                y,
            );
            self.stats.rhs_evals += 1;
            k1 = Some(k);
            let h_max = self.opts.h_max.unwrap_or(T::INFINITY).min((t1 - t0).abs());
            h = match self.opts.h0 {
                Some(h0) => dir * h0.min(h_max),
                None => {
                    let (yv, fv) = (tape.value(y).to_vec(), tape.value(k).to_vec());
                    self.stats.rhs_evals += 1;
                    let opts = self.opts;
                    initial_step(
                        &yv,
                        &fv,
                        self.tab.order,
                        opts.rtol,
                        opts.atol,
                        dir,
                        h_max,
                        |hh| {
                            let m = tape.mark();
                            let y1 = tape.add_scaled(y, k, hh);
                            let at = Stage {
                                t: t0 + hh,
                                step_start: t0,
                                step_end: t0 + hh,
                            };
                            let f1 = rhs.eval(tape, at, y1);
                            let out = tape.value(f1).to_vec();
                            tape.rewind(m);
                            out
                        },
                    )
                }
            };
            if !h.is_finite() || h == T::ZERO {
                return Err(SolveError::NonFinite { t: t0.to_f64() });
            }
        }
        let mut nonfinite_streak = 0;
        for &(stop, is_jump) in &stop_list {
            let (n_fixed, h_fixed) = if fixed {
                let n = fixed_steps_to(self.opts, t, stop);
                (n, (stop - t) / T::from_usize(n))
            } else {
                (0, T::ZERO)
            };
            let mut i_fixed = 0;
            while t != stop {
                if self.stats.attempts() >= self.opts.max_steps {
                    return Err(SolveError::MaxSteps { t: t.to_f64() });
                }
                let (h_try, t_next) = if fixed {
                    if i_fixed + 1 == n_fixed {
                        (stop - t, stop)
                    } else {
                        (h_fixed, t + h_fixed)
                    }
                } else if dir * (t + h * T::from_f64(1.01) - stop) >= T::ZERO {
                    (stop - t, stop)
                } else {
                    let h_floor = self
                        .opts
                        .h_min
                        .max(T::from_f64(16.0) * T::EPSILON * t.abs());
                    if h.abs() < h_floor {
                        return Err(if nonfinite_streak > 0 {
                            SolveError::NonFinite { t: t.to_f64() }
                        } else {
                            SolveError::StepSizeTooSmall { t: t.to_f64() }
                        });
                    }
                    (h, t + h)
                };
                if k1.is_none() {
                    k1_fresh = true;
                }
                let fresh = k1_fresh;
                let k = match k1 {
                    Some(k) => k,
                    None => {
                        self.stats.rhs_evals += 1;
                        let k = rhs.eval(
                            tape,
                            Stage {
                                t,
                                step_start: t,
                                step_end: t_next,
                            },
                            y,
                        );
                        k1 = Some(k);
                        k
                    }
                };
                let mark = tape.mark();
                let y_new = self.rk_step(tape, rhs, t, t_next, h_try, y, k);
                let err = if fixed {
                    T::ZERO
                } else {
                    self.error_norm(tape, h_try, y, y_new)
                };
                // a NaN error is a rejection too
                if !fixed && (err.is_nan() || err > T::ONE) {
                    tape.rewind(mark);
                    self.stats.rejected += 1;
                    if !err.is_finite() {
                        nonfinite_streak += 1;
                        if nonfinite_streak > 30 {
                            return Err(SolveError::NonFinite { t: t.to_f64() });
                        }
                    }
                    h = pi.reject(h_try, err);
                    continue;
                }
                if fixed && !tape.value(y_new).iter().all(|v| v.is_finite()) {
                    return Err(SolveError::NonFinite { t: t_next.to_f64() });
                }
                nonfinite_streak = 0;
                self.emit_saves(tape, obs, t, t_next, h_try, y, y_new);
                let rec = StepRecord {
                    t,
                    t_next,
                    h: h_try,
                    fresh_k1: fresh,
                    prev_start,
                };
                obs.step(tape, &rec, y_new);
                self.stats.steps += 1;
                let k_last = if self.tab.fsal {
                    Some(self.ks[self.ks.len() - 1])
                } else {
                    None
                };
                prev_start = t;
                t = t_next;
                i_fixed += 1;
                if !fixed {
                    // Landing on a stop (clipped there) is no evidence for a smaller step: keep
                    // the step proposed before clipping if it is larger.
                    let proposal = pi.accept(h_try, err);
                    h = if t == stop && proposal.abs() < h.abs() {
                        h
                    } else {
                        proposal
                    };
                    self.last_h = Some(h);
                }
                if compact {
                    self.stats.peak_values = self.stats.peak_values.max(tape.num_values());
                    self.y_buf.clear();
                    self.y_buf.extend_from_slice(tape.value(y_new));
                    if let Some(kl) = k_last {
                        self.k_buf.clear();
                        self.k_buf.extend_from_slice(tape.value(kl));
                    }
                    tape.rewind(base);
                    y = tape.constant(rows, cols, &self.y_buf);
                    k1 = k_last.map(|_| tape.constant(rows, cols, &self.k_buf));
                } else {
                    y = y_new;
                    k1 = k_last;
                }
                k1_fresh = false;
                if t == stop && is_jump {
                    k1 = None;
                }
            }
        }
        self.stats.peak_values = self.stats.peak_values.max(tape.num_values());
        Ok(y)
    }

    /// Re-takes recorded steps exactly (same stage arithmetic and stage times).
    fn replay<R: Rhs<T>, O: Observer<T>>(
        &mut self,
        tape: &mut Tape<T>,
        rhs: &mut R,
        obs: &mut O,
        y0: Var,
        recs: &[StepRecord<T>],
    ) -> Result<Var, SolveError> {
        let mut y = y0;
        let mut k1: Option<Var> = None;
        if let Some(first) = recs.first() {
            self.js = self
                .opts
                .save_at
                .partition_point(|&s| self.dir * (s - first.t) <= T::ZERO);
        }
        for rec in recs {
            let k = match (rec.fresh_k1, k1) {
                (false, Some(k)) => k,
                (fresh, _) => {
                    // a reused k1 was evaluated as the last stage of the previous step
                    let at = if fresh {
                        Stage {
                            t: rec.t,
                            step_start: rec.t,
                            step_end: rec.t_next,
                        }
                    } else {
                        Stage {
                            t: rec.t,
                            step_start: rec.prev_start,
                            step_end: rec.t,
                        }
                    };
                    self.stats.rhs_evals += 1;
                    rhs.eval(tape, at, y)
                }
            };
            let y_new = self.rk_step(tape, rhs, rec.t, rec.t_next, rec.h, y, k);
            self.emit_saves(tape, obs, rec.t, rec.t_next, rec.h, y, y_new);
            obs.step(tape, rec, y_new);
            self.stats.steps += 1;
            k1 = if self.tab.fsal {
                Some(self.ks[self.ks.len() - 1])
            } else {
                None
            };
            y = y_new;
        }
        self.stats.peak_values = self.stats.peak_values.max(tape.num_values());
        Ok(y)
    }
}
