//! Connector: the maximum-entropy distribution over loadings consistent with the identified
//! dynamics (SPEC §4.5 b; Kim, Pereira-Obilinovic, Wang et al. 2026).
//!
//! ```text
//! given:  identified left loadings m_1..m_P (a fit, gauge-fixed), visited latent states κ_k,
//!         their recurrent drives g_k = (1/P) Σ_i n_i φ(m_iᵀκ_k) (what the dynamics pin down),
//!         a reference second moment M2_r (else entropy diverges)
//! find:   q(m, n) = q(m) q(n | m),  q(m) ≈ the identified loadings,  maximising H(q(n | m))
//!         subject to  E_q[n φ(mᵀκ_k)] = g_k  (all k)  and  E_q[n_r²] = M2_r
//! ```
//! Three routes, all on one [`ConnectorProblem`]:
//!
//! * [`gaussian`]: the closed form. With a Gaussian reference the maximiser is
//!   `n | m ~ N(Φ(m) Λ, diag(s²))`, `Φ(m)_k = φ(mᵀκ_k)`, `(G + εI) Λ = g`, `G = E[Φᵀ Φ]`, and
//!   `s_r² = M2_r − E[(Φ Λ)_r²]`.
//! * [`particles`]: entropy-regularised particles: mean-field Langevin on `n` given `m`, with
//!   an augmented Lagrangian for the constraints, then distilled into a CNF by flow matching.
//! * [`lagrangian`]: simulate through a conditional CNF `q(n | m)`, entropy from the divergence
//!   integral, constraints by an augmented Lagrangian (MEFN/EPI style).
//!
//! The m-marginal is a CNF trained by flow matching on the identified `m` ([`fit_marginal`]);
//! `q(n | m)` is a conditional CNF (velocity on `[n; m; t]`). Sampling a network draws `m`,
//! then `n` given it ([`Connector::sample`]).

pub mod gaussian;
pub mod lagrangian;
pub mod particles;
mod problem;

pub use problem::{ConnectorProblem, ProblemConfig};

use crate::error::ConfigError;
use crate::models::cnf::{
    Cnf, CnfConfig, FlowMatchingConfig, Trace, fit_flow_matching, push_forward, sample,
};
use crate::solve::{Method, SolveOptions};
use rand::Rng;

/// A Connector: the m-marginal and the conditional `q(n | m)`, both CNFs.
#[derive(Clone, Debug, PartialEq)]
pub struct Connector {
    /// `q(m)` (dimension R).
    pub q_m: Cnf<f64>,
    /// `q(n | m)` (dimension R, conditioning R).
    pub q_n: Cnf<f64>,
    /// Fixed RK4 step for sampling.
    pub dt: f64,
}

impl Connector {
    /// The solver options of sampling.
    pub fn solver(&self) -> SolveOptions<f64> {
        SolveOptions::fixed(Method::Rk4, self.dt)
    }

    /// `count` loadings `(m, n)` (`count × R` each): `m ~ q(m)`, `n ~ q(n | m)`.
    ///
    /// # Errors
    /// A solver failure.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        count: usize,
        rng: &mut R,
    ) -> Result<(Vec<f64>, Vec<f64>), crate::solve::SolveError> {
        let (m, _) = sample(&self.q_m, count, &[], Trace::Exact, &self.solver(), rng)?;
        let n = self.sample_n(&m, rng)?;
        Ok((m, n))
    }

    /// `n` pushed through `q(n | m)` from given base draws `z` (`rows × R`, e.g. quasi-random
    /// ones from [`crate::models::cnf::qmc`]) for given `m` (`rows × R`).
    ///
    /// # Errors
    /// A solver failure.
    ///
    /// # Panics
    /// If `m` and `z` differ in length or are not whole rows.
    pub fn sample_n_from(
        &self,
        m: &[f64],
        z: &[f64],
    ) -> Result<Vec<f64>, crate::solve::SolveError> {
        assert_eq!(
            m.len(),
            z.len(),
            "sample_n_from: m and z must both be rows × R"
        );
        let (n, _) = push_forward(&self.q_n, z, m, Trace::Exact, &self.solver())?;
        Ok(n)
    }

    /// `n ~ q(n | m)` for given `m` (`rows × R`).
    ///
    /// # Errors
    /// A solver failure.
    pub fn sample_n<R: Rng + ?Sized>(
        &self,
        m: &[f64],
        rng: &mut R,
    ) -> Result<Vec<f64>, crate::solve::SolveError> {
        let r = self.q_n.config().dim;
        let (n, _) = sample(&self.q_n, m.len() / r, m, Trace::Exact, &self.solver(), rng)?;
        Ok(n)
    }
}

/// The CNF architecture used by the Connector: `[hidden, hidden]`, silu.
pub fn cnf_config(dim: usize, cond: usize, hidden: usize) -> CnfConfig {
    CnfConfig {
        dim,
        cond,
        hidden: vec![hidden, hidden],
        activation: crate::models::Activation::Silu,
    }
}

/// `q(m)`: a CNF trained by flow matching (with minibatch OT) on the identified `m`
/// (`P × R`).
///
/// # Errors
/// Invalid settings or data.
pub fn fit_marginal<R: Rng + ?Sized>(
    m: &[f64],
    rank: usize,
    hidden: usize,
    fm: &FlowMatchingConfig,
    rng: &mut R,
    observer: impl FnMut(usize, f64),
) -> Result<Cnf<f64>, ConfigError> {
    let mut cnf = Cnf::new(cnf_config(rank, 0, hidden), rng)?;
    fit_flow_matching(
        &mut cnf,
        m,
        &[],
        &FlowMatchingConfig {
            ot: true,
            ..fm.clone()
        },
        rng,
        observer,
    )?;
    Ok(cnf)
}

/// `q(n | m)`: a conditional CNF trained by flow matching on pairs `(m_i, n_i)` (`P × R` each).
///
/// # Errors
/// Invalid settings or data.
pub fn distill<R: Rng + ?Sized>(
    m: &[f64],
    n: &[f64],
    rank: usize,
    hidden: usize,
    fm: &FlowMatchingConfig,
    rng: &mut R,
    observer: impl FnMut(usize, f64),
) -> Result<Cnf<f64>, ConfigError> {
    let mut cnf = Cnf::new(cnf_config(rank, rank, hidden), rng)?;
    fit_flow_matching(
        &mut cnf,
        n,
        m,
        &FlowMatchingConfig {
            ot: false,
            ..fm.clone()
        },
        rng,
        observer,
    )?;
    Ok(cnf)
}
