//! Low-rank RNN workloads (SPEC §4): simulating a network and evaluating its mean-field latent
//! vector field.
//!
//! ```text
//! simulation:  τ dx/dt = −x + M (Nᵀ tanh(x)) / N,   N = 4000 neurons, R = 2 (ring recipe),
//!              16 initial conditions, RK4 with dt = 0.05 for 1000 steps (M Nᵀ never formed)
//! mean field:  F(κ) = −κ + E[n tanh(mᵀκ)] on a 64 × 64 grid of κ ∈ [−1.5, 1.5]²,
//!              by quadrature over the Gaussian loadings, or by Monte Carlo over 4000 samples
//! ```
//!
//! FLOP count of the simulation (stated for the FLOP rate): each right-hand-side evaluation
//! computes `Nᵀφ(x)` and `M κ` over the batch, `4 B N R` multiply-adds counted as FLOPs (the
//! `tanh` and the elementwise terms are not counted), four evaluations per step.

use super::{RunOutput, Workload, WorkloadError};
use crate::Float;
use crate::models::lowrank::generators::{Recipe, Tails};
use crate::models::lowrank::meanfield::{LatentField, MixtureField, SampleField};
use crate::models::lowrank::simulate::initial_states;
use crate::models::lowrank::{LowRank, LowRankOde};
use crate::solve::{Method, SolveOptions, solve};

/// Neurons of both workloads (and Monte Carlo samples of the mean field).
pub const NEURONS: usize = 4000;
/// Initial conditions simulated together.
pub const TRIALS: usize = 16;
/// RK4 steps of the simulation.
pub const STEPS: usize = 1000;
/// Step size of the simulation.
pub const DT: f64 = 0.05;
/// Grid points per axis of the mean-field evaluation.
pub const GRID: usize = 64;

/// Simulating a ring low-rank network.
pub struct LowRankSim<T: Float> {
    net: LowRank<T>,
    x0: Vec<T>,
    opts: SolveOptions<T>,
}

/// The ring recipe's network with `neurons` loadings drawn from `seed` (f64).
fn ring(neurons: usize, seed: u64) -> Result<(LowRank<f64>, Vec<f64>), WorkloadError> {
    let err = |e: crate::ConfigError| WorkloadError(e.to_string());
    let mut rng = crate::rng::stream(seed, 4);
    let (net, _) = Recipe::Ring
        .network(Tails::Gaussian, neurons, true, &mut rng)
        .map_err(err)?;
    let (x0, _) = initial_states(&net, TRIALS, Recipe::Ring.ic_radius(), 0.5, &mut rng);
    Ok((net, x0))
}

impl<T: Float> LowRankSim<T> {
    /// Draws the network and the initial states from `seed`.
    ///
    /// # Errors
    /// Not expected for the fixed sizes (a generator failure, as text).
    pub fn new(seed: u64) -> Result<Self, WorkloadError> {
        let (net, x0) = ring(NEURONS, seed)?;
        let cast = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let net =
            LowRank::<T>::from_loadings(net.config().clone(), &cast(net.m()), &cast(net.n()), &[])
                .map_err(|e| WorkloadError(e.to_string()))?;
        Ok(Self {
            net,
            x0: cast(&x0),
            opts: SolveOptions::fixed(Method::Rk4, T::from_f64(DT)),
        })
    }
}

/// The simulation workload's name for scalar type `dtype`.
pub fn sim_name(dtype: &str) -> String {
    format!("lowrank_sim/{dtype}/rk4_{STEPS}/N={NEURONS}/R=2/B={TRIALS}")
}

impl<T: Float> Workload for LowRankSim<T> {
    fn name(&self) -> String {
        sim_name(T::NAME)
    }

    fn flops(&self) -> Option<f64> {
        Some((4 * TRIALS * NEURONS * 2 * 4 * STEPS) as f64)
    }

    fn scalar_bytes(&self) -> usize {
        std::mem::size_of::<T>()
    }

    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let ode = LowRankOde::autonomous(&self.net);
        let t1 = T::from_f64(DT * STEPS as f64);
        let sol = solve(&ode, TRIALS, &self.x0, T::ZERO, t1, &self.opts)?;
        let y = &sol.y_final;
        let loss = y.iter().map(|v| v.to_f64().powi(2)).sum::<f64>() / y.len() as f64;
        Ok(RunOutput {
            loss,
            steps: sol.stats.steps,
            rhs_evals: sol.stats.rhs_evals,
            peak_values: 6 * TRIALS * NEURONS,
        })
    }
}

/// How the mean field is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Quadrature over the Gaussian loading distribution.
    Quadrature,
    /// Monte Carlo over `NEURONS` loadings (the finite network's own latent field).
    MonteCarlo,
}

/// Evaluating the ring recipe's latent field on a grid.
pub struct MeanFieldEval {
    kind: FieldKind,
    field: Box<dyn LatentField + Send>,
}

impl MeanFieldEval {
    /// The field of the ring recipe (samples drawn from `seed` for Monte Carlo).
    ///
    /// # Errors
    /// Not expected for the fixed sizes (a generator failure, as text).
    pub fn new(kind: FieldKind, seed: u64) -> Result<Self, WorkloadError> {
        let field: Box<dyn LatentField + Send> = match kind {
            FieldKind::Quadrature => Box::new(MixtureField {
                dist: Recipe::Ring
                    .loading_model(Tails::Gaussian)
                    .gaussian_mixture()
                    .ok_or_else(|| WorkloadError("internal: ring is Gaussian".into()))?,
                v: vec![],
                tau: 1.0,
            }),
            FieldKind::MonteCarlo => {
                let (net, _) = ring(NEURONS, seed)?;
                Box::new(SampleField::from_loadings(2, net.m(), net.n(), &[], 1.0))
            }
        };
        Ok(Self { kind, field })
    }
}

impl MeanFieldEval {
    /// The name of the workload of `kind`.
    pub fn name_of(kind: FieldKind) -> String {
        let how = match kind {
            FieldKind::Quadrature => "quadrature".to_string(),
            FieldKind::MonteCarlo => format!("monte_carlo_P={NEURONS}"),
        };
        format!("lowrank_meanfield/f64/{how}/grid={GRID}x{GRID}")
    }
}

impl Workload for MeanFieldEval {
    fn name(&self) -> String {
        Self::name_of(self.kind)
    }

    fn scalar_bytes(&self) -> usize {
        8
    }

    fn run(&mut self) -> Result<RunOutput, WorkloadError> {
        let mut sum = 0.0;
        for i in 0..GRID {
            for j in 0..GRID {
                let at = |k: usize| -1.5 + 3.0 * k as f64 / (GRID - 1) as f64;
                let f = self.field.eval(&[at(i), at(j)]);
                sum += f[0] * f[0] + f[1] * f[1];
            }
        }
        Ok(RunOutput {
            loss: sum / (GRID * GRID) as f64,
            ..RunOutput::default()
        })
    }
}
