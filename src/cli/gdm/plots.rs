//! The segmentation figure: observations over time on bands coloured by the inferred state,
//! the state probabilities stacked, and the true labels when known; and the ELBO curve.

use crate::metrics::argmax_rows;
use crate::plot::{Color, Figure, LegendPos, Style};

/// What to draw.
pub struct Segmentation<'a> {
    /// Observations `steps × obs`.
    pub y: &'a [f64],
    /// Channels.
    pub obs: usize,
    /// Soft states `steps × k`.
    pub states: &'a [f64],
    /// States K.
    pub k: usize,
    /// True labels.
    pub labels: Option<&'a [usize]>,
    /// Names of the true labels (class names), if known.
    pub label_names: &'a [String],
    /// Figure title.
    pub title: String,
    /// Draw at most this many channels.
    pub max_channels: usize,
}

/// The segmentation figure (two or three panels stacked).
pub fn segmentation(s: &Segmentation<'_>) -> Figure {
    let steps = s.states.len() / s.k.max(1);
    let ts: Vec<f64> = (0..steps).map(|t| t as f64).collect();
    let hard = argmax_rows(s.states, s.k);
    let x1 = steps.saturating_sub(1).max(1) as f64;
    let rows = if s.labels.is_some() { 3 } else { 2 };
    let mut fig = Figure::grid(1200, 200 * rows as u32 + 60, rows, 1);
    fig.suptitle(s.title.clone());
    if rows == 3 {
        fig.row_ratios(&[2.0, 1.2, 0.7]);
    } else {
        fig.row_ratios(&[2.0, 1.2]);
    }
    {
        let ax = fig.panel(0, 0);
        ax.state_bands(&ts, &hard);
        for j in 0..s.obs.min(s.max_channels) {
            let ys: Vec<f64> = (0..steps).map(|t| s.y[t * s.obs + j]).collect();
            ax.line(
                &ts,
                &ys,
                Style::new()
                    .color(Color::GREY.lerp(Color::palette(7), j as f64 / 4.0))
                    .width(0.9),
            );
        }
        let shown = s.obs.min(s.max_channels);
        ax.title(if shown < s.obs {
            format!(
                "observations (first {shown} of {} channels) on the inferred state",
                s.obs
            )
        } else {
            "observations on the inferred state (argmax of the soft states)".to_string()
        })
        .ylabel("y")
        .xlim(0.0, x1)
        .legend(LegendPos::Outside);
    }
    {
        let layers: Vec<Vec<f64>> = (0..s.k)
            .map(|j| (0..steps).map(|t| s.states[t * s.k + j]).collect())
            .collect();
        let refs: Vec<&[f64]> = layers.iter().map(|v| v.as_slice()).collect();
        let names: Vec<String> = (0..s.k).map(|j| format!("state {j}")).collect();
        let nref: Vec<&str> = names.iter().map(|v| v.as_str()).collect();
        fig.panel(1, 0)
            .stackplot(&ts, &refs, &nref)
            .ylim(0.0, 1.0)
            .xlim(0.0, x1)
            .ylabel("p(state)")
            .title("soft states (averaged posterior samples)")
            .legend(LegendPos::Outside);
    }
    if let Some(l) = s.labels {
        let names = if s.label_names.is_empty() {
            String::new()
        } else {
            let n: Vec<String> = s
                .label_names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i} = {n}"))
                .collect();
            format!(" (label {})", n.join(", "))
        };
        fig.panel(2, 0)
            .state_bands(&ts, l)
            .ylim(0.0, 1.0)
            .xlim(0.0, x1)
            .yticks(&[], &[])
            .title(format!("true labels{names}"))
            .xlabel("time step")
            .legend(LegendPos::Outside);
    } else {
        fig.panel(1, 0).xlabel("time step");
    }
    fig
}

/// The ELBO over iterations.
pub fn elbo_curve(elbo: &[f64], title: &str) -> Figure {
    let xs: Vec<f64> = (1..=elbo.len()).map(|i| i as f64).collect();
    let mut fig = Figure::new(700, 380);
    fig.ax()
        .line(&xs, elbo, Style::new().label("ELBO + H(ū)"))
        .xlabel("iteration")
        .ylabel("ELBO estimate")
        .title(title.to_string());
    fig
}
