//! Figures of low-rank fits and Connector runs: the latent flow field with its fixed points and
//! cycles, loadings scatters, and `J_ij` histograms.

use crate::analysis::Stability;
use crate::models::lowrank::latent::LatentAnalysis;
use crate::models::lowrank::meanfield::LatentField;
use crate::plot::{Color, Figure, FixedPointKind, LegendPos, LineDash, Marker, Style};

fn kind(s: Stability) -> Option<FixedPointKind> {
    match s {
        Stability::Stable => Some(FixedPointKind::Stable),
        Stability::Unstable => Some(FixedPointKind::Unstable),
        Stability::Saddle => Some(FixedPointKind::Saddle),
        _ => None,
    }
}

/// One panel: the latent field of `field` in the box `|κ_q| ≤ radius` (R = 1: F(κ) against κ;
/// R = 2: arrows and nullclines), latent trajectories, fixed points by type, cycles and rings.
pub fn latent_panel(
    ax: &mut crate::plot::Axes,
    field: &dyn LatentField,
    analysis: &LatentAnalysis,
    trajectories: &[Vec<Vec<f64>>],
    radius: f64,
    title: &str,
) {
    let r = field.rank();
    if r == 1 {
        let xs: Vec<f64> = (0..401)
            .map(|k| -radius + 2.0 * radius * k as f64 / 400.0)
            .collect();
        let fs: Vec<f64> = xs.iter().map(|&k| field.eval(&[k])[0]).collect();
        ax.line(
            &xs,
            &fs,
            Style::new().color(Color::palette(0)).label("F(κ)"),
        )
        .hline(0.0, Style::new().color(Color::GREY).dash(LineDash::Dashed));
        for st in [Stability::Stable, Stability::Unstable, Stability::Saddle] {
            let x: Vec<f64> = analysis
                .fixed_points
                .iter()
                .filter(|p| p.stability == st)
                .map(|p| p.kappa[0])
                .collect();
            if let (false, Some(k)) = (x.is_empty(), kind(st)) {
                ax.fixed_points(&x, &vec![0.0; x.len()], k);
            }
        }
        ax.xlabel("κ")
            .ylabel("τ dκ/dt")
            .title(title.to_string())
            .legend(LegendPos::Best);
        return;
    }
    let g = 25;
    let axis: Vec<f64> = (0..g)
        .map(|i| -radius + 2.0 * radius * i as f64 / (g - 1) as f64)
        .collect();
    let (mut qx, mut qy, mut qu, mut qv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut f0, mut f1) = (Vec::new(), Vec::new());
    for &y in &axis {
        for &x in &axis {
            let mut k = vec![0.0; r];
            k[0] = x;
            k[1] = y;
            let f = field.eval(&k);
            f0.push(f[0]);
            f1.push(f[1]);
            qx.push(x);
            qy.push(y);
            qu.push(f[0]);
            qv.push(f[1]);
        }
    }
    ax.quiver(&qx, &qy, &qu, &qv, Style::new())
        .contour(
            &axis,
            &axis,
            &f0,
            0.0,
            Style::new()
                .color(Color::palette(1))
                .width(1.4)
                .label("dκ₁/dt = 0"),
        )
        .contour(
            &axis,
            &axis,
            &f1,
            0.0,
            Style::new()
                .color(Color::palette(4))
                .width(1.4)
                .label("dκ₂/dt = 0"),
        );
    for (k, tr) in trajectories.iter().enumerate() {
        let (x, y): (Vec<f64>, Vec<f64>) = tr.iter().map(|p| (p[0], p[1])).unzip();
        let st = Style::new().color(Color::palette(6)).width(0.8).alpha(0.6);
        ax.line(&x, &y, if k == 0 { st.label("trajectories") } else { st });
    }
    for (k, c) in analysis.cycles.iter().enumerate() {
        let (mut x, mut y): (Vec<f64>, Vec<f64>) = c.points.iter().map(|p| (p[0], p[1])).unzip();
        x.push(x[0]);
        y.push(y[0]);
        let st = Style::new().color(Color::BLACK).width(2.2);
        ax.line(
            &x,
            &y,
            if k == 0 {
                st.label(format!("cycle T = {:.2}", c.period))
            } else {
                st
            },
        );
    }
    if let Some((rad, pts)) = &analysis.ring {
        let (x, y): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| (p[0], p[1])).unzip();
        ax.scatter(
            &x,
            &y,
            Style::new()
                .color(Color::palette(5))
                .marker(Marker::Circle)
                .size(2.5)
                .label(format!("ring r = {rad:.3}")),
        );
    }
    for st in [Stability::Stable, Stability::Saddle, Stability::Unstable] {
        let (x, y): (Vec<f64>, Vec<f64>) = analysis
            .fixed_points
            .iter()
            .filter(|p| p.stability == st)
            .map(|p| (p.kappa[0], p.kappa[1]))
            .unzip();
        if let (false, Some(k)) = (x.is_empty(), kind(st)) {
            ax.fixed_points(&x, &y, k);
        }
    }
    ax.xlim(-radius, radius)
        .ylim(-radius, radius)
        .aspect_equal(true)
        .xlabel("κ₁")
        .ylabel("κ₂")
        .title(title.to_string())
        .legend(LegendPos::Best);
}

/// Loadings scatters: one column per set `(name, m, n)`, one row per rank (`m_r` against `n_r`).
pub fn loadings(sets: &[(&str, &[f64], &[f64])], rank: usize, title: &str) -> Figure {
    let cols = sets.len().max(1);
    let mut fig = Figure::grid(330 * cols as u32, 310 * rank as u32 + 30, rank, cols);
    fig.suptitle(title.to_string());
    // shared limits per rank
    for r in 0..rank {
        let lim = |which: usize| {
            sets.iter()
                .flat_map(|s| {
                    let v = if which == 0 { s.1 } else { s.2 };
                    v.iter().skip(r).step_by(rank).map(|v| v.abs())
                })
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max)
                .max(1e-6)
                * 1.05
        };
        let (lm, ln) = (lim(0), lim(1));
        for (c, (name, m, n)) in sets.iter().enumerate() {
            let x: Vec<f64> = m.iter().skip(r).step_by(rank).copied().collect();
            let y: Vec<f64> = n.iter().skip(r).step_by(rank).copied().collect();
            let mean_n = y.iter().sum::<f64>() / y.len().max(1) as f64;
            fig.panel(r, c)
                .scatter(
                    &x,
                    &y,
                    Style::new()
                        .color(Color::palette(c))
                        .marker(Marker::Circle)
                        .size(1.6)
                        .alpha(0.5),
                )
                .hline(
                    mean_n,
                    Style::new()
                        .color(Color::BLACK)
                        .dash(LineDash::Dashed)
                        .label(format!("mean n = {mean_n:.2}")),
                )
                .xlim(-lm, lm)
                .ylim(-ln, ln)
                .xlabel(format!("m{}", r + 1))
                .ylabel(format!("n{}", r + 1))
                .title(name.to_string())
                .legend(LegendPos::UpperLeft);
        }
    }
    fig
}

/// Overlaid `J_ij` histograms on shared bins (1st–99th percentile of all sets).
pub fn jij(sets: &[(&str, &[f64])], title: &str) -> Figure {
    let mut all: Vec<f64> = sets
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let (lo, hi) = (q(0.005), q(0.995));
    let edges: Vec<f64> = (0..=60).map(|k| lo + (hi - lo) * k as f64 / 60.0).collect();
    let mut fig = Figure::new(560, 380);
    let ax = fig.ax();
    for (c, (name, v)) in sets.iter().enumerate() {
        ax.hist_edges(
            v,
            &edges,
            Style::new()
                .color(Color::palette(c))
                .alpha(0.45)
                .label(name.to_string()),
        );
    }
    ax.xlabel("J_ij = m_i · n_j")
        .ylabel("count")
        .title(title.to_string())
        .legend(LegendPos::UpperRight);
    fig
}
