//! The objective: the negative ELBO with M reparameterised samples plus the state-use entropy
//! bonus (SPEC §6.1), recorded in a fixed number of tape ops whatever T is.
//!
//! ```text
//! z^m_t = softmax((ℓ_t + g^m_t)/τ)                        (posterior sample, g Gumbel)
//! L = −( (1/M) Σ_m [ ln p(z^m_{1:T}) + ln p(y | z^m) − ln q(z^m | y) ] + H(ū) )
//! ln p(z^m) = ln Concrete(z^m_1; logits_z1, τ) + Σ_{t≥2} ln Concrete(z^m_t; a^m_t, τ)
//! ln p(y | z^m) = Σ_t ln N(y_t; Σ_k z^m_tk μ_{k,t}, diag(e^{log_var}))      (constants kept)
//!              or Σ_t Σ_n [y ln(λ + 1e-8) − λ − ln Γ(y + 1)],  λ = softplus(Σ_k z^m_tk μ_{k,t})
//! ln q(z^m | y) = Σ_t ln Concrete(z^m_t; ℓ_t, τ)
//! ū = mean over m and t of z^m_t,   H(u) = −Σ_k u_k ln u_k
//! ```
//! Hard switching replaces `z` by the straight-through one-hot sample and each Concrete
//! density by the categorical `Σ_k z_k log_softmax(a)_k`.
//!
//! Layout: the M samples are row blocks (`m · Σ T_i + row`), so every per-time quantity is
//! computed once and stacked M times, and `z_{t−1}` is `z` shifted down by one row (the rows
//! where that crosses a trial or sample boundary are each trial's first step, which the mask
//! sends to `logits_z1`). One evaluation records about 60 ops on arrays of `M·T` rows.

use super::Gdm;
use super::concrete::{Concrete, straight_through};
use super::config::{Emission, Switching};
use super::data::{Layout, Sequences};
use super::forward::{TimeTerms, masked, repeat, shift_rows};
use super::params::GdmVars;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Tape, Var};

/// Data checked against a model, with the masks the objective needs (build once, evaluate
/// many times).
#[derive(Clone, Debug)]
pub struct Prepared<T> {
    pub(crate) data: Sequences<T>,
    pub(crate) layout: Layout<T>,
}

impl<T: Float> Prepared<T> {
    /// The data.
    pub fn data(&self) -> &Sequences<T> {
        &self.data
    }
    /// `Σ T_i`.
    pub fn rows(&self) -> usize {
        self.layout.rows
    }
}

/// The recorded objective and its parts (all `1 × 1`).
#[derive(Clone, Copy, Debug)]
pub struct ElboParts {
    /// `−ELBO − H(ū)`: what training minimises.
    pub loss: Var,
    /// `(1/M) Σ_m ln p(z^m)`.
    pub log_prior: Var,
    /// `(1/M) Σ_m ln p(y | z^m)`.
    pub log_lik: Var,
    /// `(1/M) Σ_m ln q(z^m | y)`.
    pub log_q: Var,
    /// `H(ū)`.
    pub entropy: Var,
    /// The samples used (`M·Σ T_i × K`, one-hot for hard switching).
    pub z: Var,
}

impl<T: Float> Gdm<T> {
    /// Checks data against the model and precomputes the masks.
    ///
    /// # Errors
    /// A different number of observation channels or inputs than the model has, or negative
    /// or non-integer observations for a Poisson model.
    pub fn prepare(&self, data: &Sequences<T>) -> Result<Prepared<T>, ConfigError> {
        let c = &self.cfg;
        if data.obs() != c.obs {
            return Err(ConfigError::new(
                "y",
                format!(
                    "the data has {} channels but the model expects N = {}",
                    data.obs(),
                    c.obs
                ),
            ));
        }
        if data.inputs() != c.inputs {
            return Err(ConfigError::new(
                "u",
                format!(
                    "the data has {} inputs but the model expects {}",
                    data.inputs(),
                    c.inputs
                ),
            ));
        }
        let poisson = c.emission == Emission::Poisson;
        if poisson
            && let Some(p) = data
                .y()
                .iter()
                .position(|v| v.to_f64() < 0.0 || v.to_f64().fract() != 0.0)
        {
            return Err(ConfigError::new(
                "y",
                format!(
                    "Poisson observations must be counts; step {}, channel {} is {}",
                    p / c.obs,
                    p % c.obs,
                    data.y()[p].to_f64()
                ),
            ));
        }
        Ok(Prepared {
            data: data.clone(),
            layout: Layout::new(data, c.lags, poisson),
        })
    }

    /// Records `L = −ELBO − H(ū)` for `samples` posterior samples drawn with the Gumbel
    /// noise `gumbel` (`samples · Σ T_i × K`, sample-major), so that the loss is a
    /// deterministic function of the parameters.
    ///
    /// # Panics
    /// If `gumbel` has the wrong length or `samples` is 0.
    #[track_caller]
    pub fn neg_elbo(
        &self,
        tape: &mut Tape<T>,
        v: &GdmVars,
        prep: &Prepared<T>,
        gumbel: &[T],
        samples: usize,
    ) -> ElboParts {
        let c = &self.cfg;
        let (k, n, m) = (c.states, c.obs, samples);
        let lay = &prep.layout;
        let rt = lay.rows;
        assert!(samples > 0, "neg_elbo: samples must be at least 1");
        assert_eq!(
            gumbel.len(),
            m * rt * k,
            "neg_elbo: {} Gumbel values for {m} samples × {rt} steps × {k} states",
            gumbel.len()
        );
        let concrete = Concrete::new(c.tau).expect("internal: validated temperature");
        // per-time quantities (Σ T_i rows)
        let TimeTerms { y, u, p_prev, mu } = self.time_terms(tape, v, prep);
        let cbase = self.transition_base(tape, v, p_prev, u);
        let ql = self.posterior_logits(tape, v, &prep.data, y);
        // the M samples as row blocks
        let r = m * rt;
        let cbase = repeat(tape, cbase, m);
        let ql = repeat(tape, ql, m);
        let g = tape.constant(r, k, gumbel);
        let s = concrete.relaxed(tape, ql, g);
        let z = match c.switching {
            Switching::Soft => s.z,
            Switching::Hard => straight_through(tape, s.z),
        };
        // transitions
        let z_prev = shift_rows(tape, z, 1);
        let a = self.sticky(tape, v, cbase, z_prev);
        let cont: Vec<T> = lay.cont.iter().copied().cycle().take(r).collect();
        let first: Vec<T> = lay.first.iter().copied().cycle().take(r).collect();
        let a = masked(tape, a, &cont);
        let first = tape.constant(r, 1, &first);
        let a1 = tape.matmul(first, v.logits_z1);
        let a = tape.add(a, a1);
        let (lp_rows, lq_rows) = match c.switching {
            Switching::Soft => (
                concrete.log_density_sum(tape, a, s.log_z),
                concrete.log_density_self_sum(tape, ql, &s, gumbel),
            ),
            Switching::Hard => {
                let la = tape.log_softmax_rows(a);
                let lq = tape.log_softmax_rows(ql);
                let pa = tape.mul(z, la);
                let pq = tape.mul(z, lq);
                (tape.sum(pa), tape.sum(pq))
            }
        };
        let (log_prior, log_q) = (lp_rows, lq_rows);
        // emissions
        let mean = self.mix(tape, z, mu);
        let yr = repeat(tape, y, m);
        let log_lik = match (c.emission, v.log_var) {
            (Emission::Gaussian, Some(lv)) => {
                let d = tape.sub(yr, mean);
                let sq = tape.square(d);
                let nlv = tape.neg(lv);
                let iv = tape.exp(nlv);
                let w = tape.mul(sq, iv);
                let s1 = tape.sum(w);
                let slv = tape.sum(lv);
                let rr = T::from_usize(r);
                let ll = tape.lin_comb(&[(s1, T::from_f64(-0.5)), (slv, T::from_f64(-0.5) * rr)]);
                let c0 = -0.5 * (r * n) as f64 * (2.0 * std::f64::consts::PI).ln();
                tape.add_scalar(ll, T::from_f64(c0))
            }
            _ => {
                let lam = tape.softplus(mean);
                let lg = tape.add_scalar(lam, T::from_f64(1e-8));
                let ll = tape.ln(lg);
                let yl = tape.mul(yr, ll);
                let s1 = tape.sum(yl);
                let s2 = tape.sum(lam);
                let d = tape.sub(s1, s2);
                tape.add_scalar(d, T::from_f64(-(m as f64) * lay.lgamma_y))
            }
        };
        // entropy of the average state use
        let ubar = tape.col_means(z);
        let ug = tape.add_scalar(ubar, T::MIN_POSITIVE);
        let lu = tape.ln(ug);
        let ul = tape.mul(ubar, lu);
        let neg_h = tape.sum(ul);
        let inv_m = T::ONE / T::from_usize(m);
        let loss = tape.lin_comb(&[
            (log_prior, -inv_m),
            (log_lik, -inv_m),
            (log_q, inv_m),
            (neg_h, T::ONE),
        ]);
        let log_prior = tape.scale(log_prior, inv_m);
        let log_lik = tape.scale(log_lik, inv_m);
        let log_q = tape.scale(log_q, inv_m);
        let entropy = tape.neg(neg_h);
        ElboParts {
            loss,
            log_prior,
            log_lik,
            log_q,
            entropy,
            z,
        }
    }
}
