//! Inference with a fitted GDM: soft states, reconstruction and k-step forecasts.
//!
//! ```text
//! soft states:     z̄_t = (1/S) Σ_s z^s_t,   z^s_t ~ q(z_t | y)          (averaged posterior samples)
//! reconstruction:  ŷ_t = (1/S) Σ_s Σ_k z^s_tk μ_{k,t}   (Poisson: softplus of the mixture)
//! forecast:        from each start t: z_t ~ q, then for j = 1..k
//!                  z_{t+j} ~ Concrete(c_{t+j} + γ (z_{t+j−1} − c_{t+j}), τ),  c from F ŷ_{t+j−1}
//!                  ŷ_{t+j} = Σ_k z_{t+j,k} μ_{k,t+j}(ŷ_{t+j−1}, …, ŷ_{t+j−L})   (observed y before t+1)
//!                  averaged over S sample paths
//! ```
//! Everything runs on a tape without a backward pass, so it uses exactly the model code of the
//! objective.

use super::Gdm;
use super::concrete::{Concrete, gumbel_noise, one_hot_argmax};
use super::config::{Emission, Switching};
use super::data::Sequences;
use crate::Float;
use crate::error::ConfigError;
use crate::tape::Tape;
use rand::Rng;

/// k-step-ahead predictions: `pred(k)[t]` is the prediction of `y_t` made from `y_{≤ t−k}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// Largest horizon.
    pub k_max: usize,
    /// Time rows (`Σ T_i`).
    pub rows: usize,
    /// Observation dimension.
    pub obs: usize,
    preds: Vec<f64>,
    valid: Vec<bool>,
}

impl Forecast {
    /// Predictions at horizon `k` (`rows × obs`) and which rows have one (the start lies in
    /// the same trial with all L lags observed).
    ///
    /// # Panics
    /// If `k` is 0 or above `k_max`.
    #[track_caller]
    pub fn horizon(&self, k: usize) -> (&[f64], &[bool]) {
        assert!(
            k >= 1 && k <= self.k_max,
            "Forecast::horizon: k = {k} of 1..={}",
            self.k_max
        );
        let (r, n) = (self.rows, self.obs);
        (
            &self.preds[(k - 1) * r * n..k * r * n],
            &self.valid[(k - 1) * r..k * r],
        )
    }
}

impl<T: Float> Gdm<T> {
    /// Averaged posterior samples `z̄_t` (`Σ T_i × K`, rows on the simplex; for hard switching
    /// the fraction of one-hot samples in each state).
    ///
    /// # Errors
    /// Data that does not fit the model ([`Gdm::prepare`]), or zero samples.
    pub fn soft_states<R: Rng + ?Sized>(
        &self,
        data: &Sequences<T>,
        samples: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>, ConfigError> {
        Ok(self.posterior_samples(data, samples, rng)?.0)
    }

    /// The reconstruction `ŷ_t` (`Σ T_i × N`): the emission mean averaged over posterior
    /// samples.
    ///
    /// # Errors
    /// As [`Gdm::soft_states`].
    pub fn reconstruct<R: Rng + ?Sized>(
        &self,
        data: &Sequences<T>,
        samples: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>, ConfigError> {
        Ok(self.posterior_samples(data, samples, rng)?.1)
    }

    /// Soft states and reconstruction from the same samples.
    fn posterior_samples<R: Rng + ?Sized>(
        &self,
        data: &Sequences<T>,
        samples: usize,
        rng: &mut R,
    ) -> Result<(Vec<f64>, Vec<f64>), ConfigError> {
        if samples == 0 {
            return Err(ConfigError::new("samples", "must be at least 1"));
        }
        let prep = self.prepare(data)?;
        let c = &self.cfg;
        let k = c.states;
        let rt = prep.rows();
        let mut g = vec![T::ZERO; samples * rt * k];
        gumbel_noise(rng, &mut g);
        let mut tape = Tape::new();
        let v = self.record(&mut tape);
        let parts = self.neg_elbo(&mut tape, &v, &prep, &g, samples);
        let z = tape.value(parts.z).to_vec();
        let mut states = vec![0.0; rt * k];
        for (i, &zv) in z.iter().enumerate() {
            states[i % (rt * k)] += zv.to_f64() / samples as f64;
        }
        let recon = self.mean_for(&mut tape, &prep, &z, samples);
        Ok((states, recon))
    }

    /// `(1/S) Σ_s Σ_k z^s_tk μ_{k,t}` for samples `z` (`S·Σ T_i × K`).
    fn mean_for(
        &self,
        tape: &mut Tape<T>,
        prep: &super::Prepared<T>,
        z: &[T],
        samples: usize,
    ) -> Vec<f64> {
        let c = &self.cfg;
        let (k, n) = (c.states, c.obs);
        let rt = prep.rows();
        tape.clear();
        let v = self.record(tape);
        let mu = self.time_terms(tape, &v, prep).mu;
        let zv = tape.constant(samples * rt, k, z);
        let mut mean = self.mix(tape, zv, mu);
        if c.emission == Emission::Poisson {
            mean = tape.softplus(mean);
        }
        let vals = tape.value(mean);
        let mut out = vec![0.0; rt * n];
        for (i, &x) in vals.iter().enumerate() {
            out[i % (rt * n)] += x.to_f64() / samples as f64;
        }
        out
    }

    /// k-step forecasts for `k = 1..=k_max` from every start, averaged over `samples` paths.
    ///
    /// # Errors
    /// Data that does not fit the model, `k_max = 0` or zero samples.
    pub fn forecast<R: Rng + ?Sized>(
        &self,
        data: &Sequences<T>,
        k_max: usize,
        samples: usize,
        rng: &mut R,
    ) -> Result<Forecast, ConfigError> {
        if k_max == 0 {
            return Err(ConfigError::new("k_max", "must be at least 1"));
        }
        if samples == 0 {
            return Err(ConfigError::new("samples", "must be at least 1"));
        }
        let prep = self.prepare(data)?;
        let c = &self.cfg;
        let (k, n, lags, ni) = (c.states, c.obs, c.lags, c.inputs);
        let rt = prep.rows();
        let rows = samples * rt;
        let concrete = Concrete::new(c.tau).expect("internal: validated temperature");
        let step = data.step_index();
        let starts = data.starts();
        // the trial end (exclusive) of every row
        let mut end = vec![0; rt];
        for w in starts.windows(2) {
            end[w[0]..w[1]].iter_mut().for_each(|e| *e = w[1]);
        }
        // start states: posterior samples
        let mut g = vec![T::ZERO; rows * k];
        gumbel_noise(rng, &mut g);
        let mut tape = Tape::new();
        let v = self.record(&mut tape);
        let parts = self.neg_elbo(&mut tape, &v, &prep, &g, samples);
        let mut z_cur: Vec<T> = tape.value(parts.z).to_vec();
        // predictions so far: hist[j−1] = ŷ at step j for every path row
        let mut hist: Vec<Vec<T>> = Vec::with_capacity(k_max);
        let y = data.y();
        let mut preds = vec![0.0; k_max * rt * n];
        let mut valid = vec![false; k_max * rt];
        let mut xbuf = vec![T::ZERO; rows * n];
        let mut ubuf = vec![T::ZERO; rows * ni];
        for j in 1..=k_max {
            tape.clear();
            let v = self.record(&mut tape);
            // lagged projections of observed or predicted values
            let mut lagged = Vec::with_capacity(lags);
            for l in 1..=lags {
                for p in 0..samples {
                    for (s, &st) in step.iter().enumerate() {
                        let row = p * rt + s;
                        let dst = &mut xbuf[row * n..(row + 1) * n];
                        if j > l {
                            dst.copy_from_slice(&hist[j - l - 1][row * n..(row + 1) * n]);
                        } else {
                            // observed y_{s + j − l}, if inside the trial
                            let back = l - j; // steps before s
                            if st >= back {
                                let src = s - back;
                                dst.copy_from_slice(&y[src * n..(src + 1) * n]);
                            } else {
                                dst.fill(T::ZERO);
                            }
                        }
                    }
                }
                let yl = tape.constant(rows, n, &xbuf);
                lagged.push(self.project(&mut tape, &v, yl));
            }
            let x = if lagged.len() == 1 {
                lagged[0]
            } else {
                tape.concat_cols(&lagged)
            };
            let u = (ni > 0).then(|| {
                for p in 0..samples {
                    for (s, &e) in end.iter().enumerate() {
                        let row = p * rt + s;
                        let dst = &mut ubuf[row * ni..(row + 1) * ni];
                        if s + j < e {
                            let src = s + j;
                            dst.copy_from_slice(&data.u()[src * ni..(src + 1) * ni]);
                        } else {
                            dst.fill(T::ZERO);
                        }
                    }
                }
                tape.constant(rows, ni, &ubuf)
            });
            let mu = self.emission_dyn(&mut tape, &v, x, u);
            let cb = self.transition_base(&mut tape, &v, lagged[0], u);
            let zp = tape.constant(rows, k, &z_cur);
            let a = self.sticky(&mut tape, &v, cb, zp);
            gumbel_noise(rng, &mut g);
            let gv = tape.constant(rows, k, &g);
            let s = concrete.relaxed(&mut tape, a, gv);
            let mut z_next = tape.value(s.z).to_vec();
            if c.switching == Switching::Hard {
                z_next = one_hot_argmax(&z_next, rows, k);
            }
            let zn = tape.constant(rows, k, &z_next);
            let mut yhat = self.mix(&mut tape, zn, mu);
            if c.emission == Emission::Poisson {
                yhat = tape.softplus(yhat);
            }
            let yv = tape.value(yhat).to_vec();
            for s in 0..rt {
                let t = s + j;
                if t < end[s] && step[s] + 1 >= lags {
                    valid[(j - 1) * rt + t] = true;
                    let dst = &mut preds[((j - 1) * rt + t) * n..((j - 1) * rt + t + 1) * n];
                    for p in 0..samples {
                        let row = p * rt + s;
                        for (d, &x) in dst.iter_mut().zip(&yv[row * n..(row + 1) * n]) {
                            *d += x.to_f64() / samples as f64;
                        }
                    }
                }
            }
            hist.push(yv);
            z_cur = z_next;
        }
        Ok(Forecast {
            k_max,
            rows: rt,
            obs: n,
            preds,
            valid,
        })
    }
}
