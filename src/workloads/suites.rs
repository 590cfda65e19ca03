//! Named sets of workloads (`neurodyn bench SUITE`, `cargo bench`): each entry has its name
//! and a builder, so that a workload's memory is held only while it is measured.

use super::cnf::{CnfGrad, CnfStep};
use super::gdm::{GdmGrad, GdmGradSpec};
use super::gnode::{GnodeGrad, GnodeGradSpec};
use super::lowrank::{FieldKind, LowRankSim, MeanFieldEval};
use super::peak::FmaPeak;
use super::{Workload, WorkloadError};
use crate::solve::{GradMode, Method};

/// A workload to build.
pub struct Entry {
    /// The name [`Workload::name`] will report.
    pub name: String,
    build: Box<dyn Fn() -> Result<Box<dyn Workload>, WorkloadError> + Send + Sync>,
}

impl Entry {
    /// Builds the workload (allocating its data).
    ///
    /// # Errors
    /// As the workload's constructor.
    pub fn build(&self) -> Result<Box<dyn Workload>, WorkloadError> {
        (self.build)()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("name", &self.name).finish()
    }
}

/// The suites and what they hold.
pub const SUITES: [(&str, &str); 5] = [
    (
        "peer",
        "gnODE loss + gradient as the JAX peer: N 32/128/512, RK4 200 steps and dopri5, every gradient mode, f32 and f64",
    ),
    (
        "scaling",
        "gnODE time against N (32…1024), steps (100…10 000) and threads (1, 2), f32",
    ),
    (
        "quick",
        "small versions of every workload, seconds in all (a smoke test)",
    ),
    ("peak", "the single-core FMA peak, f32 and f64"),
    (
        "models",
        "CNF flow-matching (d 6, [128, 128], B 4096) and exact-NLL (B 256) steps, GDM ELBO + gradient (T 1000, N 10, K 4, M 10), low-rank simulation (N 4000, R 2, 1000 steps) and mean-field evaluation; f32 and f64",
    ),
];

fn gnode(spec: GnodeGradSpec, f64: bool) -> Entry {
    let s2 = spec.clone();
    typed(
        spec.name(dtype(f64)),
        f64,
        move || GnodeGrad::<f32>::new(&spec),
        move || GnodeGrad::<f64>::new(&s2),
    )
}

fn peak(f64: bool) -> Entry {
    const ITERS: usize = 200_000;
    typed(
        format!("fma_peak/{}/1core", dtype(f64)),
        f64,
        || Ok(FmaPeak::<f32>::new(ITERS)),
        || Ok(FmaPeak::<f64>::new(ITERS)),
    )
}

fn dtype(f64: bool) -> &'static str {
    if f64 { "f64" } else { "f32" }
}

/// An entry whose workload is generic over the scalar type.
fn typed<W32, W64>(
    name: String,
    f64: bool,
    b32: impl Fn() -> Result<W32, WorkloadError> + Send + Sync + 'static,
    b64: impl Fn() -> Result<W64, WorkloadError> + Send + Sync + 'static,
) -> Entry
where
    W32: Workload + 'static,
    W64: Workload + 'static,
{
    Entry {
        name,
        build: Box::new(move || -> Result<Box<dyn Workload>, WorkloadError> {
            Ok(if f64 {
                Box::new(b64()?)
            } else {
                Box::new(b32()?)
            })
        }),
    }
}

fn cnf(step: CnfStep, batch: usize, f64: bool) -> Entry {
    typed(
        super::cnf::name_of(step, batch, dtype(f64)),
        f64,
        move || CnfGrad::<f32>::new(step, batch, 0),
        move || CnfGrad::<f64>::new(step, batch, 0),
    )
}

fn gdm(spec: GdmGradSpec, f64: bool) -> Entry {
    let s2 = spec.clone();
    typed(
        spec.name(dtype(f64)),
        f64,
        move || GdmGrad::<f32>::new(&spec),
        move || GdmGrad::<f64>::new(&s2),
    )
}

fn lowrank_sim(f64: bool) -> Entry {
    typed(
        super::lowrank::sim_name(dtype(f64)),
        f64,
        || LowRankSim::<f32>::new(0),
        || LowRankSim::<f64>::new(0),
    )
}

fn meanfield(kind: FieldKind) -> Entry {
    typed(
        MeanFieldEval::name_of(kind),
        true,
        move || MeanFieldEval::new(kind, 0),
        move || MeanFieldEval::new(kind, 0),
    )
}

/// The model workloads other than the gnODE (suite `models`, and small ones for `quick`).
fn models(v: &mut Vec<Entry>, quick: bool) {
    for f64 in [false, true] {
        if quick {
            v.push(cnf(CnfStep::FlowMatching, 256, f64));
            v.push(cnf(CnfStep::ExactNll, 8, f64));
            let s = GdmGradSpec {
                steps: 100,
                samples: 2,
                ..Default::default()
            };
            v.push(gdm(s, f64));
        } else {
            v.push(cnf(CnfStep::FlowMatching, 4096, f64));
            v.push(cnf(CnfStep::ExactNll, 256, f64));
            v.push(gdm(GdmGradSpec::default(), f64));
            v.push(lowrank_sim(f64));
        }
    }
    if !quick {
        v.push(meanfield(FieldKind::Quadrature));
        v.push(meanfield(FieldKind::MonteCarlo));
    }
}

const MODES: [GradMode; 3] = [
    GradMode::Backprop,
    GradMode::Checkpointed,
    GradMode::Adjoint,
];

/// The entries of suite `name` (see [`SUITES`]; `all` is every suite but `quick`).
///
/// # Errors
/// An unknown suite name (the message lists the known ones).
pub fn suite(name: &str) -> Result<Vec<Entry>, WorkloadError> {
    let mut v = Vec::new();
    match name {
        "peak" => v.extend([peak(false), peak(true)]),
        "peer" => {
            for f64 in [false, true] {
                v.push(peak(f64));
                for n in [32, 128, 512] {
                    for method in [Method::Rk4, Method::Dopri5] {
                        for mode in MODES {
                            let s = GnodeGradSpec {
                                n,
                                method,
                                mode,
                                ..Default::default()
                            };
                            v.push(gnode(s, f64));
                        }
                    }
                }
            }
        }
        "models" => models(&mut v, false),
        "scaling" => {
            v.push(peak(false));
            for n in [32, 64, 128, 256, 512, 1024] {
                v.push(gnode(
                    GnodeGradSpec {
                        n,
                        ..Default::default()
                    },
                    false,
                ));
            }
            for steps in [100, 1000, 10_000] {
                for mode in MODES {
                    let s = GnodeGradSpec {
                        n: 32,
                        steps,
                        mode,
                        ..Default::default()
                    };
                    v.push(gnode(s, false));
                }
            }
            // Threads: one shard per thread (the single-thread figures are in the N sweep).
            for n in [128, 512] {
                let s = GnodeGradSpec {
                    n,
                    threads: 2,
                    ..Default::default()
                };
                v.push(gnode(s, false));
            }
        }
        "quick" => {
            v.push(peak(false));
            for method in [Method::Rk4, Method::Dopri5] {
                for mode in MODES {
                    let s = GnodeGradSpec {
                        n: 16,
                        batch: 8,
                        steps: 100,
                        method,
                        mode,
                        ..Default::default()
                    };
                    v.push(gnode(s, true));
                }
            }
            let s = GnodeGradSpec {
                n: 16,
                batch: 8,
                steps: 100,
                threads: 2,
                ..Default::default()
            };
            v.push(gnode(s, false));
            models(&mut v, true);
        }
        "all" => {
            for (s, _) in SUITES {
                if s != "quick" && s != "peak" {
                    for e in suite(s)? {
                        if !v.iter().any(|x: &Entry| x.name == e.name) {
                            v.push(e);
                        }
                    }
                }
            }
        }
        _ => {
            let known: Vec<&str> = SUITES.iter().map(|s| s.0).collect();
            return Err(WorkloadError(format!(
                "unknown suite {name:?} (known: {}, all)",
                known.join(", ")
            )));
        }
    }
    Ok(v)
}
