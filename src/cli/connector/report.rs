//! The Connector's outputs: the comparison table (plain fit against every route, and the truth
//! when known), samples, CNF parameters, resampled networks, figures.

use super::super::CliError;
use super::super::figures::save_both;
use super::super::lowrank::{array_f64, plots, write_json, write_npz};
use super::{ConnectorArgs, FitRun, RouteResult};
use crate::analysis::Stability;
use crate::models::lowrank::connector::ConnectorProblem;
use crate::models::lowrank::finite::settled;
use crate::models::lowrank::gauge::transform;
use crate::models::lowrank::latent::{AnalysisOptions, LatentAnalysis, analyze};
use crate::models::lowrank::meanfield::SampleField;
use crate::models::lowrank::metrics::{
    ball_grid, column, field_error, jij_samples, kurtosis, report,
};
use crate::models::lowrank::simulate::{initial_states, simulate_kappa};
use crate::models::lowrank::{LowRank, LowRankConfig};
use crate::tape::ParamStore;
use std::fmt::Write as _;
use std::path::Path;

/// One row of the table: name, `m`, `n` (in the truth's gauge when known), constraint
/// violation, the resampled network's attractors.
type Row = (String, Vec<f64>, Vec<f64>, f64, String);

fn failure(e: impl std::fmt::Display) -> CliError {
    CliError::failure(e.to_string())
}

/// At most `k` rows of `(m, n)`.
fn head(m: &[f64], n: &[f64], r: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let rows = (m.len() / r).min(k);
    (m[..rows * r].to_vec(), n[..rows * r].to_vec())
}

/// A one-line description of a latent analysis.
fn attractors(a: &LatentAnalysis) -> String {
    let stable: Vec<String> = a
        .fixed_points
        .iter()
        .filter(|p| p.stability == Stability::Stable)
        .map(|p| {
            format!(
                "({})",
                p.kappa
                    .iter()
                    .map(|v| format!("{v:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let mut parts = Vec::new();
    if !stable.is_empty() {
        parts.push(format!("stable {}", stable.join(" ")));
    }
    if let Some(c) = a.cycles.first() {
        parts.push(format!("cycle r {:.3} T {:.2}", c.radius, c.period));
    }
    if let Some((rad, _)) = &a.ring {
        parts.push(format!("ring r {rad:.3}"));
    }
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join("; ")
    }
}

/// Saves a CNF's parameters as npz (one array per parameter).
fn save_store(dir: &Path, name: &str, s: &ParamStore<f64>) -> Result<(), CliError> {
    let arrays: Vec<(String, crate::io::Array)> = s
        .infos()
        .iter()
        .map(|i| {
            Ok((
                i.name.clone(),
                array_f64(
                    vec![i.rows, i.cols],
                    s.get(s.id(&i.name).expect("internal: own name")).to_vec(),
                )?,
            ))
        })
        .collect::<Result<_, CliError>>()?;
    let refs: Vec<(&str, crate::io::Array)> = arrays
        .iter()
        .map(|(n, a)| (n.as_str(), a.clone()))
        .collect();
    write_npz(dir, name, &refs)
}

/// Draws a fresh network of `neurons` from a route, simulates `trials` trials and reads off its
/// attractors.
fn resample(
    route: &RouteResult,
    neurons: usize,
    r: usize,
    radius: f64,
    rng: &mut crate::rng::Rng,
) -> Result<String, CliError> {
    let (m, n) = head(&route.m, &route.n, r, neurons);
    if m.len() / r < neurons {
        return Ok("–".into());
    }
    let net = LowRank::from_loadings(
        LowRankConfig {
            neurons,
            rank: r,
            ..Default::default()
        },
        &m,
        &n,
        &[],
    )
    .map_err(failure)?;
    let trials = 16;
    let (x0, _) = initial_states(&net, trials, radius / 1.1, 0.5, rng);
    let dt = 0.1;
    let kap = simulate_kappa(&net, &x0, trials, 601, dt, 0.05).map_err(failure)?;
    let s = settled(&kap, trials, r, dt, 1.0, 300);
    let mut parts = Vec::new();
    if !s.stable.is_empty() && s.ring.is_none() {
        parts.push(format!(
            "stable {}",
            s.stable
                .iter()
                .map(|p| format!(
                    "({})",
                    p.iter()
                        .map(|v| format!("{v:.2}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if let Some((rad, _)) = s.ring {
        parts.push(format!("ring r {rad:.3}"));
    }
    if let Some((rad, per)) = s.cycle {
        parts.push(format!("cycle r {rad:.3} T {per:.2}"));
    }
    Ok(if parts.is_empty() {
        "–".into()
    } else {
        parts.join("; ")
    })
}

/// Writes the table, samples, parameters and figures.
pub(crate) fn write(
    a: &ConnectorArgs,
    fit: &FitRun,
    problem: &ConnectorProblem,
    m_samples: &[f64],
    results: &[RouteResult],
    out: &Path,
    rng: &mut crate::rng::Rng,
) -> Result<(), CliError> {
    let r = fit.rank;
    // everything in the truth's gauge when known
    let to_truth = |m: &[f64], n: &[f64]| -> (Vec<f64>, Vec<f64>) {
        match &fit.align {
            Some(al) => transform(m, n, r, al).unwrap_or((m.to_vec(), n.to_vec())),
            None => (m.to_vec(), n.to_vec()),
        }
    };
    let (fm, fnn) = to_truth(&fit.m, &fit.n);
    let mut sets: Vec<Row> = vec![(
        "plain fit".into(),
        fm.clone(),
        fnn.clone(),
        problem.violation(&fit.m, &fit.n),
        "–".into(),
    )];
    for res in results {
        let (m, n) = to_truth(&res.m, &res.n);
        let resampled = resample(res, a.resample_neurons, r, fit.radius, rng)?;
        sets.push((res.name.clone(), m, n, res.violation, resampled));
    }
    let radius = fit.radius;
    let grid = ball_grid(r, radius, if r == 1 { 81 } else { 21 });
    let fit_field = SampleField::from_loadings(r, &fm, &fnn, &[], 1.0);
    let opts = AnalysisOptions {
        radius,
        dt: 0.05,
        ..Default::default()
    };
    let mut table = String::new();
    let truth_cols = fit.truth.is_some();
    let _ = writeln!(
        table,
        "| loadings | field error vs {} | field error vs fit | |E[n]| | corr(n, m) {} | max |corr(n, m²)| | kurtosis m | {}constraint violation | latent attractors | resampled N = {} network |",
        if truth_cols { "truth" } else { "fit" },
        if truth_cols { "error" } else { "" },
        if truth_cols {
            "sliced W2 | MMD² | W1(J) | "
        } else {
            ""
        },
        a.resample_neurons
    );
    let _ = writeln!(
        table,
        "|{}",
        "---|".repeat(if truth_cols { 13 } else { 10 })
    );
    let mut rows_json = Vec::new();
    let mut analyses = Vec::new();
    if let Some((tm, tn)) = &fit.truth {
        let tf = SampleField::from_loadings(r, tm, tn, &[], 1.0);
        let an = analyze(&tf, &opts);
        let _ = writeln!(
            table,
            "| truth | 0 | {:.2} % | {:.3} | {} | {:.3} | {} | 0 | 0 | 0 | – | {} | – |",
            100.0 * field_error(&tf, &fit_field, &grid),
            crate::models::lowrank::metrics::mean_norm(tn, r),
            fmt_vec(&crate::models::lowrank::metrics::corr_nm(tm, tn, r)),
            crate::models::lowrank::metrics::even_corr(tm, tn, r),
            fmt_vec(
                &(0..r)
                    .map(|q| kurtosis(&column(tm, r, q)))
                    .collect::<Vec<_>>()
            ),
            attractors(&an)
        );
        analyses.push(("truth".to_string(), tf, an));
    }
    for (name, m, n, viol, resampled) in &sets {
        let (ms, ns) = head(m, n, r, 4000);
        let field = SampleField::from_loadings(r, m, n, &[], 1.0);
        let vs_fit = field_error(&field, &fit_field, &grid);
        let an = analyze(&SampleField::from_loadings(r, &ms, &ns, &[], 1.0), &opts);
        let att = attractors(&an);
        match &fit.truth {
            Some((tm, tn)) => {
                let rep = report(m, n, tm, tn, r, radius, rng);
                let _ = writeln!(
                    table,
                    "| {name} | {:.2} % | {:.2} % | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.2e} | {:.3} | {:.2e} | {att} | {resampled} |",
                    100.0 * rep.field_error,
                    100.0 * vs_fit,
                    rep.mean_n,
                    rep.corr_error,
                    rep.even_corr,
                    fmt_vec(&rep.kurtosis_m),
                    rep.sliced_w2,
                    rep.mmd2,
                    rep.w1_j,
                    viol
                );
                rows_json.push(serde_json::json!({"loadings": name, "vs_truth": super::super::lowrank::fit_report_json(&rep),
                    "field_error_vs_fit": vs_fit, "violation": viol, "attractors": att, "resampled": resampled}));
            }
            None => {
                let _ = writeln!(
                    table,
                    "| {name} | {:.2} % | {:.2} % | {:.3} | {} | {:.3} | {} | {:.2e} | {att} | {resampled} |",
                    100.0 * vs_fit,
                    100.0 * vs_fit,
                    crate::models::lowrank::metrics::mean_norm(n, r),
                    fmt_vec(&crate::models::lowrank::metrics::corr_nm(m, n, r)),
                    crate::models::lowrank::metrics::even_corr(m, n, r),
                    fmt_vec(
                        &(0..r)
                            .map(|q| kurtosis(&column(m, r, q)))
                            .collect::<Vec<_>>()
                    ),
                    viol
                );
                rows_json.push(
                    serde_json::json!({"loadings": name, "field_error_vs_fit": vs_fit,
                    "mean_n": crate::models::lowrank::metrics::mean_norm(n, r), "violation": viol,
                    "attractors": att, "resampled": resampled}),
                );
            }
        }
        analyses.push((
            name.clone(),
            SampleField::from_loadings(r, &ms, &ns, &[], 1.0),
            an,
        ));
    }
    // a Gaussian q(m) for comparison (its kurtosis is 3 by construction)
    let gauss_kurt = 3.0;
    let _ = writeln!(
        table,
        "\nA Gaussian q(m) with the fit's covariance has kurtosis {gauss_kurt:.1} in every direction; the identified m has {}.",
        fmt_vec(
            &(0..r)
                .map(|q| kurtosis(&column(&fm, r, q)))
                .collect::<Vec<_>>()
        )
    );
    crate::io::write_atomic(out.join("table.md"), table.as_bytes()).map_err(failure)?;
    if !a.quiet {
        outln!("\n{table}");
    }
    write_json(
        &out.join("result.json"),
        &serde_json::json!({"fit": a.fit.display().to_string(), "recipe": fit.recipe, "rank": r,
            "states": problem.states(), "second_moment": problem.second_moment,
            "particle_snapshots": a.particle_snapshots, "gauge_rotation": fit.rotation,
            "rows": rows_json,
            "seconds": results.iter().map(|x| (x.name.clone(), x.seconds)).collect::<Vec<_>>()}),
    )?;
    // samples (fit gauge) and CNF parameters
    let mut arrays = vec![(
        "m",
        array_f64(vec![m_samples.len() / r, r], m_samples.to_vec())?,
    )];
    let names: Vec<String> = results.iter().map(|x| route_key(&x.name)).collect();
    for (res, key) in results.iter().zip(&names) {
        arrays.push((
            key.as_str(),
            array_f64(vec![res.n.len() / r, r], res.n.clone())?,
        ));
    }
    for res in results {
        if let Some((pm, pn)) = &res.particles {
            arrays.push(("particles_m", array_f64(vec![pm.len() / r, r], pm.clone())?));
            arrays.push(("particles_n", array_f64(vec![pn.len() / r, r], pn.clone())?));
        }
    }
    write_npz(out, "samples.npz", &arrays)?;
    for (res, key) in results.iter().zip(&names) {
        if let Some(c) = &res.connector {
            save_store(out, &format!("q_n_{key}.npz"), c.q_n.store())?;
            save_store(out, "q_m.npz", c.q_m.store())?;
        }
    }
    // figures
    let scatter: Vec<(String, Vec<f64>, Vec<f64>)> = fit
        .truth
        .iter()
        .map(|(tm, tn)| ("truth".to_string(), tm.clone(), tn.clone()))
        .chain(sets.iter().map(|s| {
            let (m, n) = head(&s.1, &s.2, r, 2000);
            (s.0.clone(), m, n)
        }))
        .collect();
    let refs: Vec<(&str, &[f64], &[f64])> = scatter
        .iter()
        .map(|s| (s.0.as_str(), s.1.as_slice(), s.2.as_slice()))
        .collect();
    save_both(
        &plots::loadings(&refs, r, "Loadings: truth, plain fit, Connector"),
        out,
        "loadings",
    )
    .map_err(failure)?;
    let js: Vec<(String, Vec<f64>)> = scatter
        .iter()
        .map(|s| (s.0.clone(), jij_samples(&s.1, &s.2, r, 20_000, rng)))
        .collect();
    let jrefs: Vec<(&str, &[f64])> = js.iter().map(|s| (s.0.as_str(), s.1.as_slice())).collect();
    save_both(&plots::jij(&jrefs, "J_ij = m_i · n_j"), out, "jij").map_err(failure)?;
    let cols = analyses.len();
    let mut fig = crate::plot::Figure::grid(420 * cols as u32, 440, 1, cols);
    for (c, (name, field, an)) in analyses.iter().enumerate() {
        plots::latent_panel(fig.panel(0, c), field, an, &[], radius, name);
    }
    save_both(&fig, out, "latent").map_err(failure)?;
    Ok(())
}

/// `gaussian`, `particles` or `lagrangian` from a route's display name.
fn route_key(name: &str) -> String {
    if name.contains("closed") {
        "n_gaussian".into()
    } else if name.contains("particles") {
        "n_particles".into()
    } else {
        "n_lagrangian".into()
    }
}

fn fmt_vec(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
