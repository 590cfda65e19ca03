//! Named sets of workloads (`neurodyn bench SUITE`, `cargo bench`): each entry has its name
//! and a builder, so that a workload's memory is held only while it is measured.

use super::gnode::{GnodeGrad, GnodeGradSpec};
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
pub const SUITES: [(&str, &str); 4] = [
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
];

fn gnode(spec: GnodeGradSpec, f64: bool) -> Entry {
    let dtype = if f64 { "f64" } else { "f32" };
    Entry {
        name: spec.name(dtype),
        build: Box::new(move || -> Result<Box<dyn Workload>, WorkloadError> {
            Ok(if f64 {
                Box::new(GnodeGrad::<f64>::new(&spec)?)
            } else {
                Box::new(GnodeGrad::<f32>::new(&spec)?)
            })
        }),
    }
}

fn peak(f64: bool) -> Entry {
    const ITERS: usize = 200_000;
    Entry {
        name: format!("fma_peak/{}/1core", if f64 { "f64" } else { "f32" }),
        build: Box::new(move || -> Result<Box<dyn Workload>, WorkloadError> {
            Ok(if f64 {
                Box::new(FmaPeak::<f64>::new(ITERS))
            } else {
                Box::new(FmaPeak::<f32>::new(ITERS))
            })
        }),
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
