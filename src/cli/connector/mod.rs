//! `neurodyn connector FIT`: the maximum-entropy connectivity distribution of a low-rank fit,
//! by the closed form, entropy-regularised particles distilled by flow matching, and an
//! augmented Lagrangian through a CNF; compared with the plain fit (and the truth, for
//! simulated data).

mod report;

use super::CliError;
use super::progress::Progress;
use crate::io::read_npz;
use crate::models::cnf::FlowMatchingConfig;
use crate::models::cnf::qmc::halton_normal;
use crate::models::lowrank::connector::gaussian::GaussianConnector;
use crate::models::lowrank::connector::lagrangian::{LagrangianConfig, lagrangian};
use crate::models::lowrank::connector::particles::{ParticleConfig, particles};
use crate::models::lowrank::connector::{
    Connector, ConnectorProblem, ProblemConfig, distill, fit_marginal,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `neurodyn connector`.
#[derive(clap::Args, Debug)]
pub struct ConnectorArgs {
    /// A run folder of `neurodyn lowrank fit` (model.json, fit.npz, kappa.npy).
    pub fit: PathBuf,
    /// Routes to run, comma-separated: gaussian, particles, lagrangian.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gaussian,particles,lagrangian"
    )]
    pub routes: Vec<String>,
    /// Visited latent states constrained (farthest-point subsample).
    #[arg(long, default_value_t = 200)]
    pub states: usize,
    /// Reference second moment E[n_r²], one value for every rank or one per rank
    /// (default: the fit's variance of each n_r).
    #[arg(long, value_delimiter = ',')]
    pub n_second_moment: Option<Vec<f64>>,
    /// Samples drawn from each Connector for the metrics.
    #[arg(long, default_value_t = 20_000)]
    pub samples: usize,
    /// Samples of q(m) under which the constraints are imposed (and particles).
    #[arg(long, default_value_t = 8000)]
    pub constraint_samples: usize,
    /// Base draws of the constraint and evaluation samples: qmc (randomly shifted Halton,
    /// mapped to N(0, I)) or random.
    #[arg(long, default_value = "qmc")]
    pub sampling: String,
    /// Ridge of the closed form's Gram system, relative to its mean diagonal.
    #[arg(long, default_value_t = 1e-4)]
    pub ridge: f64,
    /// Width of the CNFs' two hidden layers.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Flow-matching steps (q(m) and each distillation).
    #[arg(long, default_value_t = 4000)]
    pub fm_steps: usize,
    /// Langevin steps of the particle route.
    #[arg(long, default_value_t = 4000)]
    pub particle_steps: usize,
    /// States of each particle's chain kept for the distillation: the last one and those 100,
    /// 200, … steps before it (each a draw of q(n | m) once the chain is stationary).
    #[arg(long, default_value_t = 8)]
    pub particle_snapshots: usize,
    /// Fraction of the particle distillation's flow-matching steps (their end) over which its
    /// parameters are averaged (0: the last iterate).
    #[arg(long, default_value_t = 0.5)]
    pub distill_average: f64,
    /// Optimiser steps of the Lagrangian route.
    #[arg(long, default_value_t = 3000)]
    pub lagrangian_steps: usize,
    /// Penalty of the Lagrangian route, relative to the curvature of its dual function.
    #[arg(long, default_value_t = 1.0)]
    pub penalty: f64,
    /// Steps between the Lagrangian route's diagnostic evaluations (entropy with a 16× finer
    /// step, violation and |E[n]| on 4000 fixed draws), written to lagrangian.csv (0: none).
    #[arg(long, default_value_t = 0)]
    pub lagrangian_eval_every: usize,
    /// Neurons of the networks resampled from each Connector and simulated.
    #[arg(long, default_value_t = 2000)]
    pub resample_neurons: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (default: FIT/connector).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// What a fit run folder holds.
pub(crate) struct FitRun {
    pub(crate) rank: usize,
    pub(crate) m: Vec<f64>,
    pub(crate) n: Vec<f64>,
    pub(crate) kappa: Vec<f64>,
    /// Gauge to the truth's coordinates (`m_true ≈ m A`), when known.
    pub(crate) align: Option<Vec<f64>>,
    /// The truth `(m, n)`, when known.
    pub(crate) truth: Option<(Vec<f64>, Vec<f64>)>,
    pub(crate) radius: f64,
    pub(crate) recipe: Option<String>,
    /// The orthogonal change of gauge applied after reading (`m Q`, `n Q`, `κ Q`), if any.
    pub(crate) rotation: Option<Vec<f64>>,
}

impl FitRun {
    /// Moves the fit to the gauge `(m Q, n Q, κ Q)` of an orthogonal `Q` (`R × R`, row-major),
    /// keeping the alignment to the truth (`m_true ≈ m A = (m Q)(Qᵀ A)`).
    fn rotate(&mut self, q: &[f64]) {
        let r = self.rank;
        let by_q = |x: &[f64]| -> Vec<f64> {
            x.chunks_exact(r)
                .flat_map(|row| (0..r).map(|c| (0..r).map(|k| row[k] * q[k * r + c]).sum()))
                .collect()
        };
        self.m = by_q(&self.m);
        self.n = by_q(&self.n);
        self.kappa = by_q(&self.kappa);
        if let Some(a) = &self.align {
            self.align = Some(
                (0..r * r)
                    .map(|j| (0..r).map(|k| q[k * r + j / r] * a[k * r + j % r]).sum())
                    .collect(),
            );
        }
        self.rotation = Some(q.to_vec());
    }
}

fn bad(path: &Path, msg: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{}: {msg}", path.display()))
}

/// Reads a `lowrank fit` run folder.
pub(crate) fn read_fit(dir: &Path) -> Result<FitRun, CliError> {
    if !dir.is_dir() {
        return Err(bad(dir, "not a run folder of `neurodyn lowrank fit`"));
    }
    let mp = dir.join("model.json");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mp).map_err(|e| bad(&mp, e))?)
            .map_err(|e| bad(&mp, format!("not valid JSON: {e}")))?;
    if model.get("kind").and_then(|k| k.as_str()) != Some("lowrank") {
        return Err(bad(&mp, "not a low-rank fit (kind ≠ \"lowrank\")"));
    }
    let inputs = model.get("inputs").and_then(|v| v.as_u64()).unwrap_or(0);
    if inputs > 0 {
        return Err(bad(
            &mp,
            "the Connector handles autonomous fits only (this fit has inputs)",
        ));
    }
    let fp = dir.join("fit.npz");
    let z = read_npz(&fp).map_err(|e| CliError::input(e.to_string()))?;
    let get = |k: &str| -> Result<(Vec<usize>, Vec<f64>), CliError> {
        let a = z.get(k).map_err(|e| CliError::input(e.to_string()))?;
        Ok((a.shape.clone(), a.to_f64_vec()))
    };
    let (ms, m) = get("m")?;
    let (ns, n) = get("n")?;
    let (p, rank) = match ms.as_slice() {
        [p, r] if *p > 0 && *r > 0 => (*p, *r),
        s => return Err(bad(&fp, format!("m must be [neurons][rank], found {s:?}"))),
    };
    if ns != ms {
        return Err(bad(&fp, format!("n has shape {ns:?}, m {ms:?}")));
    }
    let kp = dir.join("kappa.npy");
    let ka = crate::io::read_npy(&kp).map_err(|e| CliError::input(e.to_string()))?;
    if ka.shape.last() != Some(&rank) {
        return Err(bad(
            &kp,
            format!("expected [trials][samples][{rank}], found {:?}", ka.shape),
        ));
    }
    let align = z.get("align").ok().map(|a| a.to_f64_vec());
    let truth = match model.get("truth").and_then(|t| t.as_str()) {
        Some(t) if Path::new(t).is_file() => {
            let tz = read_npz(t).map_err(|e| CliError::input(e.to_string()))?;
            let tm = tz.get("m").map_err(|e| CliError::input(e.to_string()))?;
            let tn = tz.get("n").map_err(|e| CliError::input(e.to_string()))?;
            (tm.shape == vec![p, rank] && tn.shape == vec![p, rank])
                .then(|| (tm.to_f64_vec(), tn.to_f64_vec()))
        }
        _ => None,
    };
    Ok(FitRun {
        rank,
        m,
        n,
        kappa: ka.to_f64_vec(),
        align: align.filter(|a| a.len() == rank * rank && truth.is_some()),
        truth,
        radius: model
            .get("latent_radius")
            .and_then(|v| v.as_f64())
            .unwrap_or(1.5),
        recipe: model
            .get("recipe")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        rotation: None,
    })
}

/// The samples a route produced (in the fit's gauge) and its diagnostics.
pub(crate) struct RouteResult {
    pub(crate) name: String,
    pub(crate) m: Vec<f64>,
    pub(crate) n: Vec<f64>,
    pub(crate) violation: f64,
    pub(crate) seconds: f64,
    pub(crate) connector: Option<Connector>,
    /// The particle route's kept particle states `(m, n)` before distillation (in the gauge the
    /// routes ran in: the fit's, or the rotated one of [`FitRun::rotate`]).
    pub(crate) particles: Option<(Vec<f64>, Vec<f64>)>,
}

/// Runs `neurodyn connector`.
pub fn run(a: &ConnectorArgs) -> Result<(), CliError> {
    let mut fit = read_fit(&a.fit)?;
    for r in &a.routes {
        if !["gaussian", "particles", "lagrangian"].contains(&r.as_str()) {
            return Err(CliError::input(format!(
                "--routes: unknown route {r:?} (expected gaussian, particles or lagrangian)"
            )));
        }
    }
    if a.samples < 100 {
        return Err(CliError::input("--samples: at least 100"));
    }
    if a.hidden == 0 {
        return Err(CliError::input("--hidden: must be at least 1"));
    }
    let spacing = ParticleConfig::default().spacing;
    if a.routes.iter().any(|r| r == "particles")
        && (a.particle_snapshots == 0
            || (a.particle_snapshots - 1).saturating_mul(spacing) >= a.particle_steps)
    {
        return Err(CliError::input(format!(
            "--particle-snapshots: {} states {spacing} steps apart do not fit in {} Langevin \
             steps (at least 1, at most {})",
            a.particle_snapshots,
            a.particle_steps,
            a.particle_steps.saturating_sub(1) / spacing + 1
        )));
    }
    if !(0.0..=1.0).contains(&a.distill_average) {
        return Err(CliError::input(format!(
            "--distill-average: must be in [0, 1], got {}",
            a.distill_average
        )));
    }
    let r = fit.rank;
    let qmc = match a.sampling.as_str() {
        "qmc" if 2 * r <= 16 => true,
        "qmc" => {
            return Err(CliError::input(format!(
                "--sampling qmc: quasi-random draws reach 16 dimensions, rank {r} needs {}; use --sampling random",
                2 * r
            )));
        }
        "random" => false,
        s => {
            return Err(CliError::input(format!(
                "--sampling: unknown {s:?} (expected qmc or random)"
            )));
        }
    };
    let second_moment = match &a.n_second_moment {
        None => None,
        Some(v) if v.len() == 1 => Some(vec![v[0]; r]),
        Some(v) if v.len() == r => Some(v.clone()),
        Some(v) => {
            return Err(CliError::input(format!(
                "--n-second-moment: give 1 or {r} values, got {}",
                v.len()
            )));
        }
    };
    let mut rng = crate::rng::seeded(a.seed);
    let cfg = ProblemConfig {
        states: a.states,
        second_moment,
    };
    let bad_problem = |e: crate::ConfigError| {
        CliError::input(format!("--{}: {}", e.field.replace('_', "-"), e.reason))
    };
    // one reference for every rank means E[n nᵀ] = M2 I, the same in every orthogonal gauge:
    // work in the principal axes of the conditional mean, where the per-rank constraints say
    // exactly that (GaussianConnector::mean_axes); the same states are drawn there
    let isotropic = r > 1
        && cfg
            .second_moment
            .as_ref()
            .is_some_and(|v| v.iter().all(|x| *x == v[0]));
    if isotropic {
        let pre = ConnectorProblem::new(&fit.m, &fit.n, r, &fit.kappa, &cfg, &mut rng.clone())
            .map_err(bad_problem)?;
        if let Ok(g) = GaussianConnector::solve(&pre, a.ridge) {
            fit.rotate(&g.mean_axes(&fit.m));
        }
    }
    let problem = ConnectorProblem::new(&fit.m, &fit.n, r, &fit.kappa, &cfg, &mut rng)
        .map_err(bad_problem)?;
    let out = a.out.clone().unwrap_or_else(|| a.fit.join("connector"));
    std::fs::create_dir_all(&out)
        .map_err(|e| CliError::failure(format!("{}: {e}", out.display())))?;
    let quiet = a.quiet;
    let say = |s: String| {
        if !quiet {
            outln!("{s}");
        }
    };
    say(format!(
        "Connector for {} (rank {r}, {} neurons, {} constrained states, reference E[n²] = {:?}) → {}",
        a.fit.display(),
        fit.m.len() / r,
        problem.states(),
        problem
            .second_moment
            .iter()
            .map(|v| (v * 1e3).round() / 1e3)
            .collect::<Vec<_>>(),
        out.display()
    ));
    if let Some(q) = &fit.rotation {
        say(format!(
            "one reference for every rank (E[n nᵀ] = M2 I): working in the principal axes of the \
             conditional mean, m → m Q with Q = {:?} (result.json: gauge_rotation)",
            q.iter()
                .map(|v| (v * 1e3).round() / 1e3)
                .collect::<Vec<_>>()
        ));
    }
    let fm = FlowMatchingConfig {
        steps: a.fm_steps,
        ..Default::default()
    };
    let fail = |e: crate::ConfigError| CliError::failure(e.to_string());
    // q(m): shared by every route
    let t0 = Instant::now();
    let bar = Progress::new(a.fm_steps as u64, quiet);
    let q_m = fit_marginal(&fit.m, r, a.hidden, &fm, &mut rng, |s, l| {
        bar.update(s as u64 + 1, &format!("q(m) flow matching {l:.4}"))
    })
    .map_err(fail)?;
    bar.finish();
    say(format!(
        "q(m): flow matching on the identified m ({:.1} s)",
        t0.elapsed().as_secs_f64()
    ));
    let base = Connector {
        q_m: q_m.clone(),
        q_n: q_m.clone(),
        dt: 0.05,
    };
    // base draws: one joint point per evaluation sample, its first R coordinates for q(m),
    // its last R for q(n | m) (quasi-random by default; see models::cnf::qmc)
    let draws = |count: usize, dim: usize, rng: &mut crate::rng::Rng| -> Vec<f64> {
        if qmc {
            halton_normal(count, dim, rng).expect("internal: 2R ≤ 16 was checked")
        } else {
            crate::models::cnf::base_draws(rng, count, dim)
        }
    };
    let z_joint = draws(a.samples, 2 * r, &mut rng);
    let (z_m, z_n): (Vec<f64>, Vec<f64>) = {
        let rows = z_joint.chunks_exact(2 * r);
        (
            rows.clone().flat_map(|z| z[..r].to_vec()).collect(),
            rows.flat_map(|z| z[r..].to_vec()).collect(),
        )
    };
    let push_m = |z: &[f64]| {
        crate::models::cnf::push_forward(
            &q_m,
            z,
            &[],
            crate::models::cnf::Trace::Exact,
            &base.solver(),
        )
        .map(|(m, _)| m)
        .map_err(|e| CliError::failure(e.to_string()))
    };
    let m_samples = push_m(&z_m)?;
    // the constraints are imposed under q(m): a separate draw of its samples
    let m_constrain = push_m(&draws(a.constraint_samples, r, &mut rng))?;
    let fit_problem = problem;
    let problem = fit_problem.with_m_samples(&m_constrain);
    let mut results: Vec<RouteResult> = Vec::new();
    for route in &a.routes {
        let t = Instant::now();
        let res = match route.as_str() {
            "gaussian" => {
                let g = GaussianConnector::solve(&problem, a.ridge).map_err(fail)?;
                if g.slack.iter().any(|&s| s <= 0.0) {
                    say(format!(
                        "warning: the reference second moment is too small to hold the drive (slack {:?})",
                        g.slack
                    ));
                }
                let n = g.sample_n_from(&m_samples, &z_n);
                RouteResult {
                    name: "Connector (closed form)".into(),
                    violation: problem.violation(&m_samples, &n),
                    m: m_samples.clone(),
                    n,
                    seconds: t.elapsed().as_secs_f64(),
                    connector: None,
                    particles: None,
                }
            }
            "particles" => {
                let cfg = ParticleConfig {
                    steps: a.particle_steps,
                    copies: 1,
                    snapshots: a.particle_snapshots,
                    ..Default::default()
                };
                let bar = Progress::new(a.particle_steps as u64, quiet);
                let parts = particles(&problem, &cfg, &mut rng, |s, v| {
                    bar.update(s as u64 + 1, &format!("particles: violation {v:.3e}"))
                })
                .map_err(fail)?;
                bar.finish();
                let bar = Progress::new(a.fm_steps as u64, quiet);
                let fm_p = FlowMatchingConfig {
                    average: a.distill_average,
                    ..fm.clone()
                };
                let q_n = distill(&parts.m, &parts.n, r, a.hidden, &fm_p, &mut rng, |s, l| {
                    bar.update(s as u64 + 1, &format!("distilling q(n | m): {l:.4}"))
                })
                .map_err(fail)?;
                bar.finish();
                let c = Connector {
                    q_m: q_m.clone(),
                    q_n,
                    dt: 0.05,
                };
                let n = c
                    .sample_n_from(&m_samples, &z_n)
                    .map_err(|e| CliError::failure(e.to_string()))?;
                say(format!(
                    "particles: violation {:.2e} after {} Langevin steps",
                    parts.violation.last().copied().unwrap_or(f64::NAN),
                    a.particle_steps
                ));
                RouteResult {
                    name: "Connector (particles + FM)".into(),
                    violation: problem.violation(&m_samples, &n),
                    m: m_samples.clone(),
                    n,
                    seconds: t.elapsed().as_secs_f64(),
                    connector: Some(c),
                    particles: Some((parts.m, parts.n)),
                }
            }
            _ => {
                // warm start: the plain fit's (m, n) pairs, spurious structure included
                let bar = Progress::new(a.fm_steps as u64, quiet);
                let mut q_n = distill(&fit.m, &fit.n, r, a.hidden, &fm, &mut rng, |s, l| {
                    bar.update(s as u64 + 1, &format!("warm start from the fit: {l:.4}"))
                })
                .map_err(fail)?;
                bar.finish();
                let cfg = LagrangianConfig {
                    steps: a.lagrangian_steps,
                    penalty: a.penalty,
                    eval_every: a.lagrangian_eval_every,
                    ..Default::default()
                };
                // the closed form's optimum, for reference: H* and the multipliers
                if let Ok(g) = GaussianConnector::solve(&problem, a.ridge) {
                    let h: f64 = g
                        .noise
                        .iter()
                        .map(|s| {
                            0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * s * s).ln()
                        })
                        .sum();
                    // the multipliers of the scaled constraints: λ* = −KR ḡ Λ / s²
                    let kr = (problem.states() * r) as f64;
                    let gbar =
                        problem.targets.iter().map(|v| v * v).sum::<f64>().sqrt() / kr.sqrt();
                    let lam: f64 = g
                        .lambda
                        .iter()
                        .enumerate()
                        .map(|(j, l)| (kr * gbar * l / g.noise[j % r].powi(2)).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    let nu: Vec<f64> = g.noise.iter().map(|s| 0.5 / (s * s)).collect();
                    say(format!(
                        "closed form: H* = {h:.4}, ‖Λ*‖ = {lam:.3}, ν* = {nu:?}"
                    ));
                }
                let mut trace = String::from(
                    "step,entropy,violation,violation_smoothed,moment_error,grad_norm,lambda_norm,nu,eval_entropy,eval_entropy_fine,eval_violation,eval_violation_fine,eval_mean_norm,eval_moment_error,grad_entropy,grad_constraints\n",
                );
                let bar = Progress::new(a.lagrangian_steps as u64, quiet);
                lagrangian(&problem, &mut q_n, &cfg, &mut rng, |s| {
                    trace.push_str(&format!(
                        "{},{},{},{},{},{},{},{}",
                        s.step,
                        s.entropy,
                        s.violation,
                        s.violation_smoothed,
                        s.moment_error,
                        s.grad_norm,
                        s.lambda_norm,
                        s.nu
                    ));
                    match s.eval {
                        Some(e) => trace.push_str(&format!(
                            ",{},{},{},{},{},{},{},{}\n",
                            e.entropy,
                            e.entropy_fine,
                            e.violation,
                            e.violation_fine,
                            e.mean_norm,
                            e.moment_error,
                            e.grad_entropy,
                            e.grad_constraints
                        )),
                        None => trace.push_str(",,,,,,,,\n"),
                    }
                    bar.update(
                        s.step as u64 + 1,
                        &format!(
                            "Lagrangian: H {:.3} violation {:.3e} moment {:.2e}",
                            s.entropy, s.violation_smoothed, s.moment_error
                        ),
                    )
                })
                .map_err(fail)?;
                bar.finish();
                let tp = out.join("lagrangian.csv");
                std::fs::write(&tp, trace)
                    .map_err(|e| CliError::failure(format!("{}: {e}", tp.display())))?;
                let c = Connector {
                    q_m: q_m.clone(),
                    q_n,
                    dt: 0.05,
                };
                let n = c
                    .sample_n_from(&m_samples, &z_n)
                    .map_err(|e| CliError::failure(e.to_string()))?;
                RouteResult {
                    name: "Connector (Lagrangian CNF)".into(),
                    violation: problem.violation(&m_samples, &n),
                    m: m_samples.clone(),
                    n,
                    seconds: t.elapsed().as_secs_f64(),
                    connector: Some(c),
                    particles: None,
                }
            }
        };
        say(format!(
            "{}: constraint violation {:.2e} ({:.1} s)",
            res.name, res.violation, res.seconds
        ));
        results.push(res);
    }
    report::write(a, &fit, &fit_problem, &m_samples, &results, &out, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::FitRun;

    /// A rotation keeps J = m nᵀ, each neuron's m·κ, and the alignment to the truth.
    #[test]
    fn rotating_a_fit_keeps_what_the_gauge_cannot_change() {
        let (c, s) = (0.3_f64.cos(), 0.3_f64.sin());
        let q = [c, -s, s, c];
        let fit = FitRun {
            rank: 2,
            m: vec![1.0, 2.0, -0.5, 0.3, 0.7, -1.1],
            n: vec![0.2, -1.0, 1.5, 0.4, -0.3, 0.9],
            kappa: vec![0.5, -0.2, 1.0, 0.1],
            align: Some(vec![1.2, 0.3, -0.4, 0.9]),
            truth: None,
            radius: 1.0,
            recipe: None,
            rotation: None,
        };
        let mut rot = fit_clone(&fit);
        rot.rotate(&q);
        let dot = |a: &[f64], b: &[f64]| a[0] * b[0] + a[1] * b[1];
        let m_a = |m: &[f64], a: &[f64]| -> Vec<f64> {
            m.chunks_exact(2)
                .flat_map(|v| [v[0] * a[0] + v[1] * a[2], v[0] * a[1] + v[1] * a[3]])
                .collect()
        };
        for i in 0..3 {
            for j in 0..3 {
                let (a, b) = (
                    dot(&fit.m[2 * i..2 * i + 2], &fit.n[2 * j..2 * j + 2]),
                    dot(&rot.m[2 * i..2 * i + 2], &rot.n[2 * j..2 * j + 2]),
                );
                assert!((a - b).abs() < 1e-12, "J_{i}{j}: {a} vs {b}");
            }
            for k in 0..2 {
                let (a, b) = (
                    dot(&fit.m[2 * i..2 * i + 2], &fit.kappa[2 * k..2 * k + 2]),
                    dot(&rot.m[2 * i..2 * i + 2], &rot.kappa[2 * k..2 * k + 2]),
                );
                assert!((a - b).abs() < 1e-12, "m·κ: {a} vs {b}");
            }
        }
        let (t0, t1) = (
            m_a(&fit.m, fit.align.as_ref().unwrap()),
            m_a(&rot.m, rot.align.as_ref().unwrap()),
        );
        for (a, b) in t0.iter().zip(&t1) {
            assert!((a - b).abs() < 1e-12, "aligned m: {a} vs {b}");
        }
        assert_eq!(rot.rotation.as_deref(), Some(&q[..]));
        assert_ne!(rot.m, fit.m);
    }

    fn fit_clone(f: &FitRun) -> FitRun {
        FitRun {
            rank: f.rank,
            m: f.m.clone(),
            n: f.n.clone(),
            kappa: f.kappa.clone(),
            align: f.align.clone(),
            truth: f.truth.clone(),
            radius: f.radius,
            recipe: f.recipe.clone(),
            rotation: f.rotation.clone(),
        }
    }
}
