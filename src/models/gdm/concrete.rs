//! The Concrete (Gumbel-softmax) distribution (Maddison, Mnih & Teh 2017; Jang, Gu & Poole
//! 2017) as tape-level building blocks, in log space so that small temperatures stay finite.
//!
//! ```text
//! sample:   g_k = −ln(−ln u_k),  u_k ~ U(0, 1)
//!           z = softmax((a + g)/λ),   ln z = log_softmax((a + g)/λ)      (never ln of a 0)
//! density:  ln p(z) = ln Γ(K) + (K−1) ln λ + Σ_k (a_k − (λ+1) ln z_k)
//!                     − K · logsumexp_k(a_k − λ ln z_k)
//! hard:     z_ST = z + detach(onehot(argmax z) − z)     (straight through)
//! ```
//!
//! The density is with respect to Lebesgue measure on the first `K − 1` coordinates of the
//! simplex (the last is `1 − Σ`). It is written in terms of `ln z`, which the sampler returns
//! exactly (`log_softmax`), so nothing is evaluated as `ln 0` even when `λ` is small enough
//! for `z` itself to underflow.
//!
//! # Example: a relaxed sample and its log-density on the tape
//! ```
//! use neurodyn::models::gdm::Concrete;
//! use neurodyn::tape::Tape;
//! let c = Concrete::new(0.5)?;
//! let mut rng = neurodyn::rng::seeded(1);
//! let mut g = vec![0.0; 3];
//! neurodyn::models::gdm::gumbel_noise(&mut rng, &mut g);
//! let mut tape = Tape::<f64>::new();
//! let a = tape.variable(1, 3, &[0.2, -0.1, 0.4]);
//! let gv = tape.constant(1, 3, &g);
//! let s = c.relaxed(&mut tape, a, gv);
//! let z = tape.value(s.z).to_vec();
//! assert!((z.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! let lp = c.log_density_rows(&mut tape, a, s.log_z);
//! let plain = c.log_density(&[0.2, -0.1, 0.4], &z);
//! assert!((tape.scalar(lp) - plain).abs() < 1e-10);
//! # Ok::<(), neurodyn::ConfigError>(())
//! ```

use crate::Float;
use crate::error::ConfigError;
use crate::tape::{Tape, Var};
use rand::{Rng, RngExt};

/// A Concrete distribution's temperature, validated once (`λ > 0`, finite).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Concrete {
    tau: f64,
}

/// A relaxed sample on the tape: `z`, its exact logarithm and the softmax normaliser.
#[derive(Clone, Copy, Debug)]
pub struct Relaxed {
    /// `softmax((a + g)/λ)`, rows on the simplex.
    pub z: Var,
    /// `log_softmax((a + g)/λ)`.
    pub log_z: Var,
    /// `logsumexp((a + g)/λ)` of each row (`rows × 1`).
    pub lse: Var,
}

impl Concrete {
    /// A Concrete family with temperature `tau`.
    ///
    /// # Errors
    /// `tau` not positive or not finite.
    pub fn new(tau: f64) -> Result<Self, ConfigError> {
        if !(tau.is_finite() && tau > 0.0) {
            return Err(ConfigError::new(
                "tau",
                format!("the temperature must be positive and finite, got {tau}"),
            ));
        }
        Ok(Self { tau })
    }

    /// The temperature λ.
    pub fn tau(&self) -> f64 {
        self.tau
    }

    /// One point `z = softmax((a + g)/λ)` drawn with fresh Gumbel noise (plain `f64`).
    pub fn sample<R: Rng + ?Sized>(&self, logits: &[f64], rng: &mut R) -> Vec<f64> {
        let mut g = vec![0.0; logits.len()];
        gumbel_noise(rng, &mut g);
        let x: Vec<f64> = logits
            .iter()
            .zip(&g)
            .map(|(a, g)| (a + g) / self.tau)
            .collect();
        let lse = logsumexp(&x);
        x.iter().map(|v| (v - lse).exp()).collect()
    }

    /// `ln p(z)` at a point of the simplex given by its coordinates (plain `f64`; uses `ln z`,
    /// so a coordinate that is exactly 0 gives −∞ or NaN: use [`Concrete::log_density_log`]
    /// with the sampler's `ln z` instead).
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn log_density(&self, logits: &[f64], z: &[f64]) -> f64 {
        let log_z: Vec<f64> = z.iter().map(|v| v.ln()).collect();
        self.log_density_log(logits, &log_z)
    }

    /// `ln p(z)` from `ln z` (plain `f64`).
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn log_density_log(&self, logits: &[f64], log_z: &[f64]) -> f64 {
        assert_eq!(logits.len(), log_z.len(), "Concrete::log_density: lengths");
        let k = logits.len() as f64;
        let lam = self.tau;
        let x: Vec<f64> = logits.iter().zip(log_z).map(|(a, l)| a - lam * l).collect();
        let s: f64 = logits
            .iter()
            .zip(log_z)
            .map(|(a, l)| a - (lam + 1.0) * l)
            .sum();
        ln_gamma(k) + (k - 1.0) * lam.ln() + s - k * logsumexp(&x)
    }

    /// Records a relaxed sample for every row: `z = softmax((a + g)/λ)` and `ln z` (rows ×
    /// K each; `gumbel` has the shape of `logits`, usually a constant).
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn relaxed<T: Float>(&self, tape: &mut Tape<T>, logits: Var, gumbel: Var) -> Relaxed {
        let x = tape.add(logits, gumbel);
        let x = tape.scale(x, T::from_f64(1.0 / self.tau));
        let lse = tape.logsumexp_rows(x);
        let log_z = tape.sub(x, lse);
        Relaxed {
            z: tape.exp(log_z),
            log_z,
            lse,
        }
    }

    /// `Σ_r ln p(z_r)` over all rows (`1 × 1`): [`Concrete::log_density_rows`] summed, with
    /// only the log-sum-exp taken row by row.
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn log_density_sum<T: Float>(&self, tape: &mut Tape<T>, logits: Var, log_z: Var) -> Var {
        let (rows, k) = tape.shape(logits);
        let lam = T::from_f64(self.tau);
        let sa = tape.sum(logits);
        let sz = tape.sum(log_z);
        let x = tape.lin_comb(&[(logits, T::ONE), (log_z, -lam)]);
        let l = tape.logsumexp_rows(x);
        let sl = tape.sum(l);
        let s = tape.lin_comb(&[(sa, T::ONE), (sz, -(lam + T::ONE)), (sl, -T::from_usize(k))]);
        tape.add_scalar(s, T::from_f64(rows as f64 * self.norm_const(k)))
    }

    /// `Σ_r ln p(z_r)` at the density's own relaxed sample `s = relaxed(logits, g)`, in closed
    /// form: there `a_k − λ ln z_k = −g_k + λ · lse_r`, so
    /// `ln p(z) = c + Σ_k (a_k − (λ+1) ln z_k) − K (logsumexp_k(−g_k) + λ lse_r)` and the only
    /// row-wise term is a constant of the noise. Equal in value and gradient to
    /// [`Concrete::log_density_sum`] of `(logits, s.log_z)`.
    ///
    /// # Panics
    /// If `gumbel` does not have the shape of `logits`.
    #[track_caller]
    pub fn log_density_self_sum<T: Float>(
        &self,
        tape: &mut Tape<T>,
        logits: Var,
        s: &Relaxed,
        gumbel: &[T],
    ) -> Var {
        let (rows, k) = tape.shape(logits);
        assert_eq!(gumbel.len(), rows * k, "log_density_self_sum: Gumbel shape");
        let lam = T::from_f64(self.tau);
        let sa = tape.sum(logits);
        let sz = tape.sum(s.log_z);
        let sl = tape.sum(s.lse);
        let mut noise = 0.0;
        let mut neg = vec![0.0; k];
        for g in gumbel.chunks_exact(k.max(1)) {
            neg.iter_mut().zip(g).for_each(|(n, g)| *n = -g.to_f64());
            noise += logsumexp(&neg);
        }
        let kk = T::from_usize(k);
        let v = tape.lin_comb(&[(sa, T::ONE), (sz, -(lam + T::ONE)), (sl, -kk * lam)]);
        let c = rows as f64 * self.norm_const(k) - k as f64 * noise;
        tape.add_scalar(v, T::from_f64(c))
    }

    /// `ln Γ(K) + (K−1) ln λ`.
    fn norm_const(&self, k: usize) -> f64 {
        ln_gamma(k as f64) + (k as f64 - 1.0) * self.tau.ln()
    }

    /// `ln p(z_r)` for every row (`rows × 1`), from logits and `ln z` (rows × K each): the
    /// density of the module docs in six tape ops.
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn log_density_rows<T: Float>(&self, tape: &mut Tape<T>, logits: Var, log_z: Var) -> Var {
        let (_, k) = tape.shape(logits);
        let lam = T::from_f64(self.tau);
        let sa = tape.row_sums(logits);
        let sz = tape.row_sums(log_z);
        let x = tape.lin_comb(&[(logits, T::ONE), (log_z, -lam)]);
        let l = tape.logsumexp_rows(x);
        let kk = T::from_usize(k);
        let s = tape.lin_comb(&[(sa, T::ONE), (sz, -(lam + T::ONE)), (l, -kk)]);
        tape.add_scalar(s, T::from_f64(self.norm_const(k)))
    }
}

/// Fills `out` with standard Gumbel draws `−ln(−ln u)`, `u` uniform on the open interval
/// (0, 1) (53 random bits, centred, so neither end is reached).
pub fn gumbel_noise<T: Float, R: Rng + ?Sized>(rng: &mut R, out: &mut [T]) {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    for o in out {
        let u = ((rng.random::<u64>() >> 11) as f64 + 0.5) * SCALE;
        *o = T::from_f64(-(-u.ln()).ln());
    }
}

/// The straight-through estimator `z + detach(onehot(argmax z) − z)`: one-hot rows forward,
/// the gradient of the relaxed `z` backward (ties go to the first maximum).
pub fn straight_through<T: Float>(tape: &mut Tape<T>, z: Var) -> Var {
    let (rows, k) = tape.shape(z);
    let hard = one_hot_argmax(tape.value(z), rows, k);
    let h = tape.constant(rows, k, &hard);
    let d = tape.sub(h, z);
    let d = tape.detach(d);
    tape.add(z, d)
}

/// One-hot rows at each row's first maximum.
pub fn one_hot_argmax<T: Float>(z: &[T], rows: usize, k: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; rows * k];
    for r in 0..rows {
        let row = &z[r * k..(r + 1) * k];
        let mut best = 0;
        for j in 1..k {
            if row[j] > row[best] {
                best = j;
            }
        }
        if k > 0 {
            out[r * k + best] = T::ONE;
        }
    }
    out
}

/// `ln Σ exp(x)` (max-shifted; −∞ for an empty slice).
pub fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms; relative error below 1e-13 on the
/// values used here: `ln Γ(K)` and `ln Γ(y + 1)` for counts).
///
/// ```
/// use neurodyn::models::gdm::ln_gamma;
/// assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
/// assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
/// ```
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x) Γ(1 − x) = π / sin(πx)
        let s = (std::f64::consts::PI * x).sin();
        return std::f64::consts::PI.ln() - s.abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}
