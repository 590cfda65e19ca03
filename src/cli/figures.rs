//! The figures a run folder gets: training curves, phase portraits of 2-D models (flow field,
//! nullclines, trajectories, slow points by stability), projections of larger ones, and the
//! expressivity sweep.

use crate::analysis::{AttractorSummary, Stability};
use crate::plot::{Color, Figure, FixedPointKind, LegendPos, LineDash, Marker, Style};
use std::path::Path;

/// Saves a figure as `<stem>.svg` and `<stem>.png` in `dir`.
///
/// # Errors
/// Rendering or I/O errors.
pub fn save_both(fig: &Figure, dir: &Path, stem: &str) -> Result<(), crate::Error> {
    fig.save(dir.join(format!("{stem}.svg")))?;
    fig.save(dir.join(format!("{stem}.png")))?;
    Ok(())
}

/// Training curves from a run's `metrics.csv`.
///
/// # Errors
/// An unreadable metrics file.
pub fn training(dir: &Path, metric: &str) -> Result<Figure, crate::Error> {
    let t = crate::io::read_csv(
        dir.join("metrics.csv"),
        &crate::io::CsvOptions {
            allow_non_finite: true,
            ..Default::default()
        },
    )?;
    let col = |name: &str| -> Vec<f64> {
        t.column_index(name)
            .map(|j| t.column(j))
            .unwrap_or_default()
    };
    let (ep, tl, vl, vs) = (
        col("epoch"),
        col("train_loss"),
        col("val_loss"),
        col("val_score"),
    );
    let mut fig = Figure::grid(960, 380, 1, 2);
    fig.panel(0, 0)
        .line(&ep, &tl, Style::new().label("training"))
        .line(&ep, &vl, Style::new().label("validation"))
        .log_y(true)
        .xlabel("epoch")
        .ylabel("loss")
        .title("Loss")
        .legend(LegendPos::UpperRight);
    let best = vs
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    fig.panel(0, 1)
        .line(
            &ep,
            &vs,
            Style::new()
                .color(Color::palette(2))
                .label(format!("validation {metric}")),
        )
        .hline(
            best,
            Style::new()
                .dash(LineDash::Dashed)
                .color(Color::GREY)
                .label(format!("best {best:.4}")),
        )
        .xlabel("epoch")
        .ylabel(metric.to_string())
        .title(format!("Validation {metric}"))
        .legend(LegendPos::Best);
    Ok(fig)
}

fn kind(s: Stability) -> Option<FixedPointKind> {
    match s {
        Stability::Stable => Some(FixedPointKind::Stable),
        Stability::Unstable => Some(FixedPointKind::Unstable),
        Stability::Saddle => Some(FixedPointKind::Saddle),
        Stability::Marginal | Stability::Unknown => None,
    }
}

/// The data of a 2-D phase portrait.
pub struct Portrait<'a> {
    /// Grid coordinates.
    pub xs: &'a [f64],
    /// Grid coordinates.
    pub ys: &'a [f64],
    /// First component of the field on the grid (`[j * nx + i]`).
    pub fx: &'a [f64],
    /// Second component.
    pub fy: &'a [f64],
    /// Trajectories: each a list of `(x, y)`.
    pub trajectories: &'a [Vec<(f64, f64)>],
    /// Slow and fixed points.
    pub points: &'a AttractorSummary,
    /// Readout of each slow point (2-D outputs), for the second panel.
    pub readout: &'a [(f64, f64)],
    /// Title.
    pub title: String,
}

/// A phase portrait of a 2-D model, and the readout plane of its slow points.
pub fn portrait(p: &Portrait<'_>) -> Figure {
    let with_readout = !p.readout.is_empty();
    let mut fig = Figure::grid(
        if with_readout { 1100 } else { 620 },
        520,
        1,
        if with_readout { 2 } else { 1 },
    );
    fig.suptitle(p.title.clone());
    let pts: Vec<(f64, f64, bool, Stability)> = p
        .points
        .points
        .iter()
        .map(|q| (q.h[0], q.h[1], q.fixed, q.stability))
        .collect();
    plane(
        fig.panel(0, 0),
        p.xs,
        p.ys,
        p.fx,
        p.fy,
        p.trajectories,
        &pts,
        ("h₁", "h₂"),
    );
    if with_readout {
        let (x, y): (Vec<f64>, Vec<f64>) = p.readout.iter().copied().unzip();
        fig.panel(0, 1)
            .scatter(
                &x,
                &y,
                Style::new()
                    .color(Color::palette(5))
                    .marker(Marker::Circle)
                    .size(3.0)
                    .label("slow points"),
            )
            .aspect_equal(true)
            .xlabel("y₁")
            .ylabel("y₂")
            .title("Readout of the slow points");
    }
    fig
}

/// One plane's grid: coordinates `(i, j)`, `xs`, `ys`, and the in-plane components.
pub type PlaneGrid = ((usize, usize), Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// Planes through a 3-D state space: for each pair of coordinates, the in-plane field,
/// its nullclines, projected trajectories and slow points.
pub struct Planes<'a> {
    /// For each plane: coordinates `(i, j)`, grid `xs`, `ys` and in-plane components.
    pub planes: Vec<PlaneGrid>,
    /// Trajectories (full states, `dim` wide).
    pub trajectories: &'a [Vec<Vec<f64>>],
    /// Slow and fixed points.
    pub points: &'a AttractorSummary,
    /// Title.
    pub title: String,
}

/// Three slices of a 3-D model's flow.
pub fn planes(p: &Planes<'_>) -> Figure {
    let mut fig = Figure::grid(1500, 520, 1, p.planes.len().max(1));
    fig.suptitle(p.title.clone());
    let names = ["h₁", "h₂", "h₃"];
    for (k, ((i, j), xs, ys, fx, fy)) in p.planes.iter().enumerate() {
        let tr: Vec<Vec<(f64, f64)>> = p
            .trajectories
            .iter()
            .map(|t| t.iter().map(|h| (h[*i], h[*j])).collect())
            .collect();
        let pts: Vec<(f64, f64, bool, Stability)> = p
            .points
            .points
            .iter()
            .map(|q| (q.h[*i], q.h[*j], q.fixed, q.stability))
            .collect();
        plane(
            fig.panel(0, k),
            xs,
            ys,
            fx,
            fy,
            &tr,
            &pts,
            (names[*i], names[*j]),
        );
    }
    fig
}

/// One phase plane: field arrows, nullclines, trajectories, slow points, fixed points by type.
#[allow(clippy::too_many_arguments)]
fn plane(
    ax: &mut crate::plot::Axes,
    xs: &[f64],
    ys: &[f64],
    fx: &[f64],
    fy: &[f64],
    trajectories: &[Vec<(f64, f64)>],
    points: &[(f64, f64, bool, Stability)],
    (nx, ny): (&str, &str),
) {
    let (qx, qy, qu, qv) = subsample(xs, ys, fx, fy, 4);
    ax.quiver(&qx, &qy, &qu, &qv, Style::new())
        .contour(
            xs,
            ys,
            fx,
            0.0,
            Style::new()
                .color(Color::palette(1))
                .width(1.6)
                .label(format!("d{nx}/dt = 0")),
        )
        .contour(
            xs,
            ys,
            fy,
            0.0,
            Style::new()
                .color(Color::palette(4))
                .width(1.6)
                .label(format!("d{ny}/dt = 0")),
        );
    for (k, tr) in trajectories.iter().enumerate() {
        let (x, y): (Vec<f64>, Vec<f64>) = tr.iter().copied().unzip();
        let st = Style::new().color(Color::palette(6)).width(1.0).alpha(0.8);
        ax.line(&x, &y, if k == 0 { st.label("trajectories") } else { st });
    }
    let (x, y): (Vec<f64>, Vec<f64>) = points
        .iter()
        .filter(|q| !q.2 || q.3 == Stability::Marginal)
        .map(|q| (q.0, q.1))
        .unzip();
    if !x.is_empty() {
        ax.scatter(
            &x,
            &y,
            Style::new()
                .color(Color::palette(5))
                .marker(Marker::Circle)
                .size(3.0)
                .label("slow points"),
        );
    }
    for st in [Stability::Stable, Stability::Saddle, Stability::Unstable] {
        let (x, y): (Vec<f64>, Vec<f64>) = points
            .iter()
            .filter(|q| q.2 && q.3 == st)
            .map(|q| (q.0, q.1))
            .unzip();
        if let (false, Some(k)) = (x.is_empty(), kind(st)) {
            ax.fixed_points(&x, &y, k);
        }
    }
    ax.xlim(xs[0], xs[xs.len() - 1])
        .ylim(ys[0], ys[ys.len() - 1])
        .aspect_equal(true)
        .xlabel(nx.to_string())
        .ylabel(ny.to_string())
        .title(format!("{nx}–{ny} plane"))
        .legend(LegendPos::Best);
}

fn subsample(
    xs: &[f64],
    ys: &[f64],
    fx: &[f64],
    fy: &[f64],
    every: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let nx = xs.len();
    let mut out = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (j, &y) in ys.iter().enumerate().step_by(every) {
        for (i, &x) in xs.iter().enumerate().step_by(every) {
            out.0.push(x);
            out.1.push(y);
            out.2.push(fx[j * nx + i]);
            out.3.push(fy[j * nx + i]);
        }
    }
    out
}

/// Slow points and trajectory states of a higher-dimensional model, projected on the two
/// leading principal components of the trajectory states.
pub fn projection(states: &[f64], n: usize, points: &AttractorSummary, title: String) -> Figure {
    let rows = states.len() / n.max(1);
    let mean: Vec<f64> = (0..n)
        .map(|j| (0..rows).map(|r| states[r * n + j]).sum::<f64>() / rows.max(1) as f64)
        .collect();
    let m = nalgebra::DMatrix::from_fn(rows.max(1), n, |r, j| {
        if rows == 0 {
            0.0
        } else {
            states[r * n + j] - mean[j]
        }
    });
    let svd = m.svd(false, true);
    let pcs: Vec<Vec<f64>> = match svd.v_t {
        Some(vt) => (0..2.min(n))
            .map(|k| (0..n).map(|j| vt[(k, j)]).collect())
            .collect(),
        None => vec![],
    };
    let proj = |h: &[f64]| -> (f64, f64) {
        let c = |k: usize| {
            pcs.get(k).map_or(0.0, |v| {
                v.iter()
                    .zip(h)
                    .zip(&mean)
                    .map(|((a, b), m)| a * (b - m))
                    .sum()
            })
        };
        (c(0), c(1))
    };
    let mut fig = Figure::new(620, 520);
    fig.suptitle(title);
    let ax = fig.ax();
    let (x, y): (Vec<f64>, Vec<f64>) = (0..rows).map(|r| proj(&states[r * n..(r + 1) * n])).unzip();
    ax.scatter(
        &x,
        &y,
        Style::new()
            .color(Color::GREY)
            .size(1.5)
            .alpha(0.4)
            .label("trajectory states"),
    );
    let (x, y): (Vec<f64>, Vec<f64>) = points
        .points
        .iter()
        .filter(|q| !q.fixed || q.stability == Stability::Marginal)
        .map(|q| proj(&q.h))
        .unzip();
    if !x.is_empty() {
        ax.scatter(
            &x,
            &y,
            Style::new()
                .color(Color::palette(5))
                .size(3.0)
                .label("slow points"),
        );
    }
    for st in [Stability::Stable, Stability::Saddle, Stability::Unstable] {
        let (x, y): (Vec<f64>, Vec<f64>) = points
            .points
            .iter()
            .filter(|q| q.fixed && q.stability == st)
            .map(|q| proj(&q.h))
            .unzip();
        if let (false, Some(k)) = (x.is_empty(), kind(st)) {
            ax.fixed_points(&x, &y, k);
        }
    }
    ax.xlabel("PC 1")
        .ylabel("PC 2")
        .title("Slow points on the leading principal components")
        .legend(LegendPos::Outside);
    fig
}
