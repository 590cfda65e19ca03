//! One figure of each kind the plotting module is for, written to `target/plot-gallery/` as
//! SVG and PNG: a flow field with nullclines, trajectories, fixed points and a ring of slow
//! points; training curves; connectivity loadings; a histogram of weights beside the matrix;
//! a segmentation of a time series with state probabilities; a table of results as bars and
//! lines.
//!
//! ```sh
//! cargo test --test it plot_gallery -- --ignored
//! ```

use neurodyn::plot::{Color, Colormap, Figure, FixedPointKind, LegendPos, LineDash, Marker, Style};
use rand::RngExt;
use std::f64::consts::PI;

/// Standard normal samples (Box–Muller) from a seeded generator.
fn normals(seed: u64, n: usize) -> Vec<f64> {
    let mut r = neurodyn::rng::seeded(seed);
    (0..n)
        .map(|_| {
            let (u, v): (f64, f64) = (r.random(), r.random());
            (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * PI * v).cos()
        })
        .collect()
}

fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| a + (b - a) * k as f64 / (n - 1) as f64)
        .collect()
}

/// A near-ring attractor, ṙ = r(1 − r²), θ̇ = ε sin 3θ, in Cartesian coordinates.
fn ring(x: f64, y: f64) -> (f64, f64) {
    const EPS: f64 = 0.15;
    let r2 = x * x + y * y;
    // The tangential speed r θ̇ = ε r sin 3θ, divided by r for the unit tangent (−y, x)/r.
    let s = if r2 > 0.0 {
        EPS * (3.0 * x * x * y - y * y * y) / (r2 * r2.sqrt())
    } else {
        0.0
    };
    (x * (1.0 - r2) - y * s, y * (1.0 - r2) + x * s)
}

/// The ring field on the grid `g × g`, row-major: positions and components.
fn on_grid(g: &[f64]) -> [Vec<f64>; 4] {
    let mut out: [Vec<f64>; 4] = Default::default();
    for &b in g {
        for &a in g {
            let (u, v) = ring(a, b);
            for (o, val) in out.iter_mut().zip([a, b, u, v]) {
                o.push(val);
            }
        }
    }
    out
}

/// A classical RK4 trajectory of the ring system.
fn trajectory(mut x: f64, mut y: f64, dt: f64, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ys) = (vec![x], vec![y]);
    for _ in 0..steps {
        let k1 = ring(x, y);
        let k2 = ring(x + 0.5 * dt * k1.0, y + 0.5 * dt * k1.1);
        let k3 = ring(x + 0.5 * dt * k2.0, y + 0.5 * dt * k2.1);
        let k4 = ring(x + dt * k3.0, y + dt * k3.1);
        x += dt / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
        y += dt / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
        xs.push(x);
        ys.push(y);
    }
    (xs, ys)
}

fn flow_field() -> Figure {
    let mut fig = Figure::new(760, 600);
    let ax = fig.ax();
    let [x, y, u, v] = on_grid(&linspace(-1.6, 1.6, 17));
    ax.quiver(&x, &y, &u, &v, Style::new().width(1.1));
    // Nullclines: zero sets of each component on a fine grid.
    let fine = linspace(-1.7, 1.7, 241);
    let [_, _, fu, fv] = on_grid(&fine);
    let thick = Style::new().width(2.2);
    let (l1, l2) = (
        thick.clone().label("ẋ₁ = 0 nullcline"),
        thick.label("ẋ₂ = 0 nullcline"),
    );
    ax.contour(&fine, &fine, &fu, 0.0, l1)
        .contour(&fine, &fine, &fv, 0.0, l2);
    // Trajectories from inside and outside the ring, each start marked by a square.
    let dark = Color::rgb(0x33, 0x33, 0x33);
    let start = Style::new().color(dark).marker(Marker::Square).size(5.0);
    let inner = [(0.05, 0.02), (-0.03, -0.06)];
    let outer = [(1.55, 0.9), (-1.5, 1.2), (-1.2, -1.5), (0.9, -1.55)];
    for (k, &(x0, y0)) in inner.iter().chain(&outer).enumerate() {
        let (tx, ty) = trajectory(x0, y0, 0.02, 700);
        let s = Style::new().color(dark).width(1.3);
        ax.line(&tx, &ty, if k == 0 { s.label("trajectory") } else { s })
            .scatter(&[x0], &[y0], start.clone());
    }
    // The ring of slow points, then the fixed points on it and at the origin.
    let (rx, ry): (Vec<f64>, Vec<f64>) = linspace(0.0, 2.0 * PI, 73)
        .iter()
        .map(|t| (t.cos(), t.sin()))
        .unzip();
    let slow = Style::new()
        .color(Color::palette(2))
        .size(4.5)
        .label("slow points");
    let at = |k: f64| ((k * PI / 3.0).cos(), (k * PI / 3.0).sin());
    let (sx, sy): (Vec<f64>, Vec<f64>) = [1.0, 3.0, 5.0].map(at).into_iter().unzip();
    let (dx, dy): (Vec<f64>, Vec<f64>) = [0.0, 2.0, 4.0].map(at).into_iter().unzip();
    ax.scatter(&rx, &ry, slow)
        .fixed_points(&sx, &sy, FixedPointKind::Stable)
        .fixed_points(&dx, &dy, FixedPointKind::Saddle)
        .fixed_points(&[0.0], &[0.0], FixedPointKind::Unstable)
        .xlim(-1.7, 1.7)
        .ylim(-1.7, 1.7)
        .aspect_equal(true)
        .xlabel("x₁")
        .ylabel("x₂")
        .title("Near-ring attractor: ṙ = r(1 − r²), θ̇ = 0.15 sin 3θ")
        .legend(LegendPos::Outside);
    fig
}

fn training() -> Figure {
    let noise = normals(1, 600);
    let epochs: Vec<f64> = (1..=300).map(f64::from).collect();
    let curve = |k: usize, a: f64, tau: f64, floor: f64, drift: f64, sd: f64| -> Vec<f64> {
        let shape = |t: f64| a * (-t / tau).exp() + floor + drift * t;
        epochs
            .iter()
            .zip(&noise[300 * k..])
            .map(|(&t, n)| shape(t) * (1.0 + sd * n))
            .collect()
    };
    let train = curve(0, 2.0, 35.0, 0.025, 0.0, 0.08);
    let val = curve(1, 2.1, 40.0, 0.045, 0.00006, 0.05);
    let r2: Vec<f64> = epochs
        .iter()
        .map(|t| 0.97 * (1.0 - (-t / 45.0).exp()))
        .collect();
    let mut fig = Figure::grid(940, 380, 1, 2);
    fig.suptitle("Fitting a gated neural ODE");
    fig.panel(0, 0)
        .line(&epochs, &train, Style::new().label("train"))
        .line(&epochs, &val, Style::new().label("validation"))
        .log_y(true)
        .grid(true)
        .xlabel("epoch")
        .ylabel("loss (MSE)")
        .title("Loss");
    let ceiling = Style::new()
        .dash(LineDash::Dashed)
        .width(1.2)
        .label("ceiling");
    fig.panel(0, 1)
        .line(
            &epochs,
            &r2,
            Style::new().color(Color::palette(2)).label("held-out R²"),
        )
        .hline(0.97, ceiling)
        .ylim(0.0, 1.0)
        .grid(true)
        .xlabel("epoch")
        .ylabel("R²")
        .title("Variance explained")
        .legend(LegendPos::LowerRight);
    fig
}

/// Per-neuron loadings (m, n) of a rank-one RNN with two populations, true and fitted.
fn loadings() -> Figure {
    let n = 240;
    let z = normals(2, 4 * n);
    let group = |i: usize| usize::from(i >= n / 2);
    // Population 1: m and n correlated; population 2: anticorrelated and shifted.
    let m_true: Vec<f64> = (0..n)
        .map(|i| {
            if group(i) == 0 {
                z[i]
            } else {
                0.6 * z[i] + 1.2
            }
        })
        .collect();
    let n_true: Vec<f64> = (0..n)
        .map(|i| match group(i) {
            0 => 0.8 * z[i] + 0.5 * z[n + i],
            _ => -0.7 * z[i] + 0.4 * z[n + i] - 0.8,
        })
        .collect();
    let m_fit: Vec<f64> = (0..n).map(|i| m_true[i] + 0.18 * z[2 * n + i]).collect();
    let n_fit: Vec<f64> = (0..n).map(|i| n_true[i] + 0.18 * z[3 * n + i]).collect();
    let pick = |v: &[f64], g: usize| -> Vec<f64> {
        (0..n).filter(|&i| group(i) == g).map(|i| v[i]).collect()
    };
    let dots = |g: usize| {
        let s = Style::new().color(Color::palette(g)).alpha(0.75).size(5.5);
        s.label(format!("population {}", g + 1))
    };
    let mut fig = Figure::grid(1080, 380, 1, 3);
    fig.suptitle("Connectivity loadings of a rank-one RNN (N = 240)");
    let panels = [("True", &m_true, &n_true), ("Fitted", &m_fit, &n_fit)];
    for (col, (title, m, nn)) in panels.into_iter().enumerate() {
        let ax = fig.panel(0, col);
        for g in 0..2 {
            ax.scatter(&pick(m, g), &pick(nn, g), dots(g));
        }
        ax.hline(0.0, Style::new().width(0.8))
            .vline(0.0, Style::new().width(0.8))
            .aspect_equal(true)
            .xlim(-3.2, 3.2)
            .ylim(-3.2, 3.2)
            .xlabel("m loading")
            .ylabel("n loading")
            .title(title);
    }
    let ax = fig.panel(0, 2);
    let identity = Style::new()
        .color(Color::GREY)
        .dash(LineDash::Dashed)
        .width(1.2);
    ax.line(&[-3.0, 3.0], &[-3.0, 3.0], identity.label("identity"));
    for g in 0..2 {
        ax.scatter(
            &pick(&m_true, g),
            &pick(&m_fit, g),
            dots(g).marker(Marker::Triangle),
        );
    }
    ax.aspect_equal(true)
        .xlabel("true m")
        .ylabel("fitted m")
        .title("Recovery of m")
        .legend(LegendPos::UpperLeft);
    fig
}

/// The distribution of J_ij = (4 m_i n_j + g χ_ij) / √N, true and fitted, and the matrix.
fn weights() -> Figure {
    let n = 120;
    let z = normals(3, 2 * n + 2 * n * n);
    let (m, nv, chi) = (&z[..n], &z[n..2 * n], &z[2 * n..]);
    let j = |noise: &[f64], g: f64| -> Vec<f64> {
        let sqrt_n = (n as f64).sqrt();
        (0..n * n)
            .map(|k| (4.0 * m[k / n] * nv[k % n] + g * noise[k]) / sqrt_n)
            .collect()
    };
    let (j_true, j_fit) = (j(chi, 0.8), j(&chi[n * n..], 0.95));
    let edges = linspace(-1.2, 1.2, 61);
    let mut fig = Figure::grid(980, 400, 1, 2);
    fig.col_ratios(&[1.25, 1.0]);
    fig.panel(0, 0)
        .hist_edges(&j_true, &edges, Style::new().alpha(0.45).label("true"))
        .hist_edges(&j_fit, &edges, Style::new().alpha(0.45).label("fitted"))
        .xlabel("Jᵢⱼ")
        .ylabel("count")
        .title("Distribution of weights");
    let lim = j_true.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let extent = [0.5, n as f64 + 0.5, 0.5, n as f64 + 0.5];
    fig.panel(0, 1)
        .heatmap(&j_true, n, n, extent, Colormap::BlueWhiteRed)
        .invert_y(true)
        .clim(-lim, lim)
        .colorbar("Jᵢⱼ")
        .aspect_equal(true)
        .xlabel("presynaptic j")
        .ylabel("postsynaptic i")
        .title("True connectivity");
    fig
}

/// A three-state switching time series with its inferred segmentation.
fn segmentation() -> Figure {
    let (t_len, n_states) = (600, 3);
    let z = normals(4, 2 * t_len);
    let switches = [0usize, 90, 170, 300, 360, 470, 540, t_len];
    let mut states = vec![0usize; t_len];
    for (k, w) in switches.windows(2).enumerate() {
        states[w[0]..w[1]].fill(k % n_states);
    }
    let ts: Vec<f64> = (0..t_len).map(|k| k as f64 * 0.05).collect();
    // Each state oscillates at its own frequency around its own mean.
    let (mut y1, mut y2) = (vec![0.0; t_len], vec![0.0; t_len]);
    for k in 0..t_len {
        let (mean, freq) = [(0.0, 0.6), (1.8, 1.5), (-1.2, 0.3)][states[k]];
        let phase = 2.0 * PI * freq * ts[k];
        y1[k] = mean + phase.sin() + 0.15 * z[k];
        y2[k] = 0.5 * mean + 0.6 * phase.cos() + 0.15 * z[t_len + k];
    }
    // Posterior probabilities (states × time): smoothed one-hot, uncertain near switches.
    let mut p = vec![0.0; n_states * t_len];
    for t in 0..t_len {
        let mut w = [0.05; 3];
        for dt in -8i64..=8 {
            let s = (t as i64 + dt).clamp(0, t_len as i64 - 1) as usize;
            w[states[s]] += (-(dt as f64).powi(2) / 18.0).exp();
        }
        let total: f64 = w.iter().sum();
        for s in 0..n_states {
            p[s * t_len + t] = w[s] / total;
        }
    }
    let t_end = ts[t_len - 1];
    let mut fig = Figure::grid(960, 520, 2, 1);
    fig.row_ratios(&[2.0, 1.0])
        .suptitle("Segmentation by a Gumbel dynamical model");
    let ink = Color::rgb(0x22, 0x22, 0x22);
    fig.panel(0, 0)
        .state_bands(&ts, &states)
        .line(&ts, &y1, Style::new().color(ink).width(1.3).label("y₁"))
        .line(
            &ts,
            &y2,
            Style::new().color(Color::GREY).width(1.3).label("y₂"),
        )
        .xlim(0.0, t_end)
        .ylabel("observation")
        .legend(LegendPos::Outside);
    fig.panel(1, 0)
        .heatmap(
            &p,
            n_states,
            t_len,
            [0.0, t_end, -0.5, 2.5],
            Colormap::Viridis,
        )
        .clim(0.0, 1.0)
        .colorbar("p(state)")
        .yticks(&[0.0, 1.0, 2.0], &["state 0", "state 1", "state 2"])
        .xlabel("time (s)");
    fig
}

/// A table of results as grouped bars, and a metric against model rank as lines.
fn results() -> Figure {
    let models = ["gnODE", "mGRU", "RNN", "low-rank"];
    let table = [
        ("Lorenz", [0.97, 0.95, 0.81, 0.88]),
        ("motor cortex", [0.78, 0.74, 0.62, 0.71]),
    ];
    let mut fig = Figure::grid(980, 380, 1, 2);
    let xs: Vec<f64> = (0..models.len()).map(|k| k as f64).collect();
    let ax = fig.panel(0, 0);
    for (k, (name, r2)) in table.iter().enumerate() {
        let shifted: Vec<f64> = xs.iter().map(|x| x - 0.2 + 0.4 * k as f64).collect();
        ax.bar(&shifted, r2, 0.38, Style::new().label(*name));
    }
    ax.xticks(&xs, &models)
        .ylim(0.0, 1.0)
        .grid(true)
        .ylabel("held-out R²")
        .title("Fit quality by model")
        .legend(LegendPos::Outside);
    let ranks = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0];
    let err_a = [0.42, 0.12, 0.051, 0.048, 0.047, 0.046];
    let err_b = [0.55, 0.31, 0.16, 0.09, 0.071, 0.069];
    fig.panel(0, 1)
        .line(
            &ranks,
            &err_a,
            Style::new().marker(Marker::Circle).label("Lorenz"),
        )
        .line(
            &ranks,
            &err_b,
            Style::new().marker(Marker::Square).label("motor cortex"),
        )
        .log_y(true)
        .grid(true)
        .xlabel("rank R")
        .ylabel("validation error")
        .title("Error against rank");
    fig
}

/// Renders the gallery (ignored by default: it writes files for people to look at).
#[test]
#[ignore]
fn plot_gallery() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plot-gallery");
    let dir = dir.as_path();
    std::fs::create_dir_all(dir)?;
    let figures = [
        ("flow_field", flow_field()),
        ("training", training()),
        ("loadings", loadings()),
        ("weights", weights()),
        ("segmentation", segmentation()),
        ("results", results()),
    ];
    for (name, fig) in figures {
        for ext in ["svg", "png"] {
            let path = dir.join(format!("{name}.{ext}"));
            fig.save(&path)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
