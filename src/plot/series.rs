//! The series an [`Axes`] can draw. Slices of different lengths are cut to the shortest; NaN
//! and infinite values are kept and skipped when drawn. Nothing here panics.

use super::axes::Axes;
use super::color::{Color, Colormap};
use super::contour::contour_lines;
use super::item::{Heatmap, Item};
use super::scale::finite_range;
use super::style::{FixedPointKind, Style};

fn zip2(xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
    xs.iter().copied().zip(ys.iter().copied()).collect()
}

impl Axes {
    /// A line through `(xs[k], ys[k])`, broken at non-finite points; with `style.marker` set,
    /// a marker at every point too.
    pub fn line(&mut self, xs: &[f64], ys: &[f64], style: Style) -> &mut Self {
        let color = self.resolve(style.color);
        self.items.push(Item::Line {
            pts: zip2(xs, ys),
            color,
            style,
        });
        self
    }

    /// A marker at every `(xs[k], ys[k])` (a disc unless `style.marker` says otherwise). To
    /// colour points by group, call once per group with a label.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Marker, Style};
    /// let mut fig = Figure::new(300, 300);
    /// fig.ax()
    ///     .scatter(&[0.1, 0.4], &[1.0, 0.8], Style::new().label("group A"))
    ///     .scatter(&[0.9, 0.7], &[-0.3, 0.1], Style::new().marker(Marker::Triangle).label("group B"));
    /// assert_eq!(fig.to_svg().matches("<circle").count(), 3); // 2 points + 1 legend swatch
    /// ```
    pub fn scatter(&mut self, xs: &[f64], ys: &[f64], style: Style) -> &mut Self {
        let color = self.resolve(style.color);
        self.items.push(Item::Scatter {
            pts: zip2(xs, ys),
            color,
            style,
        });
        self
    }

    /// Arrows of the vector field `(u[k], v[k])` centred on the points `(x[k], y[k])`.
    ///
    /// Lengths are normalised: the longest arrow spans about 0.9 of the typical spacing between
    /// points, the others scale with √(|v| / max|v|) but are never shorter than 30 % of it, so
    /// that directions stay readable where the flow is slow. Colour defaults to grey (the field
    /// is context, not data); the palette is not advanced.
    ///
    /// # Example: ẋ = −y, ẏ = x on a 3 × 3 grid
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let (x, y) = ([-1.0, 0.0, 1.0].repeat(3), [[-1.0; 3], [0.0; 3], [1.0; 3]].concat());
    /// let (u, v): (Vec<f64>, Vec<f64>) = x.iter().zip(&y).map(|(a, b)| (-b, *a)).unzip();
    /// let mut fig = Figure::new(300, 300);
    /// fig.ax().quiver(&x, &y, &u, &v, Style::new()).aspect_equal(true);
    /// assert!(fig.to_svg().contains("stroke=\"#888888\""));
    /// ```
    pub fn quiver(
        &mut self,
        x: &[f64],
        y: &[f64],
        u: &[f64],
        v: &[f64],
        style: Style,
    ) -> &mut Self {
        let color = style.color.unwrap_or(Color::GREY);
        let n = x.len().min(y.len()).min(u.len()).min(v.len());
        self.items.push(Item::Quiver {
            pts: zip2(&x[..n], &y[..n]),
            vecs: zip2(&u[..n], &v[..n]),
            color,
            style,
        });
        self
    }

    /// The level set `values = level` of a gridded field, by marching squares
    /// ([`contour_lines`]). `values[j * xs.len() + i]` is the value at `(xs[i], ys[j])`; a grid
    /// with too few values draws nothing. For nullclines, pass a vector-field component and
    /// level 0.
    ///
    /// # Example: the nullcline ẏ = 0 of ẏ = x − y³
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let g: Vec<f64> = (0..21).map(|k| -2.0 + 0.2 * k as f64).collect();
    /// let ydot: Vec<f64> = g.iter().flat_map(|&y| g.iter().map(move |&x| x - y * y * y)).collect();
    /// let mut fig = Figure::new(300, 300);
    /// fig.ax().contour(&g, &g, &ydot, 0.0, Style::new().label("ẏ = 0"));
    /// assert!(fig.to_svg().contains("ẏ = 0"));
    /// ```
    pub fn contour(
        &mut self,
        xs: &[f64],
        ys: &[f64],
        values: &[f64],
        level: f64,
        style: Style,
    ) -> &mut Self {
        let color = self.resolve(style.color);
        let lines = contour_lines(xs, ys, values, level);
        self.items.push(Item::Contour {
            lines,
            color,
            style,
        });
        self
    }

    /// A `rows × cols` matrix (row-major) as coloured cells over `extent = [x0, x1, y0, y1]`:
    /// row 0 at `y0`, column 0 at `x0`. To show a connectivity matrix with row 1 on top, use
    /// `extent = [0.5, n + 0.5, 0.5, n + 0.5]` with [`invert_y`](Axes::invert_y). Colours
    /// span the finite data range, or [`clim`](Axes::clim); NaN cells stay blank. Too few values, or a non-finite extent, draw nothing.
    ///
    /// # Example: state probabilities over time
    /// ```
    /// use neurodyn::plot::{Colormap, Figure};
    /// let p = [0.9, 0.8, 0.1, 0.1, 0.2, 0.9]; // 2 states × 3 time bins
    /// let mut fig = Figure::new(400, 200);
    /// fig.ax()
    ///     .heatmap(&p, 2, 3, [0.0, 3.0, -0.5, 1.5], Colormap::Viridis)
    ///     .yticks(&[0.0, 1.0], &["state 0", "state 1"])
    ///     .colorbar("p(state)");
    /// assert!(fig.to_svg().contains("p(state)"));
    /// ```
    pub fn heatmap(
        &mut self,
        values: &[f64],
        rows: usize,
        cols: usize,
        extent: [f64; 4],
        cmap: Colormap,
    ) -> &mut Self {
        let n = rows
            .checked_mul(cols)
            .filter(|&n| n > 0 && n <= values.len());
        if let (Some(n), true) = (n, extent.iter().all(|e| e.is_finite())) {
            let values = values[..n].to_vec();
            self.items.push(Item::Heatmap(Heatmap {
                values,
                rows,
                cols,
                extent,
                cmap,
            }));
        }
        self
    }

    /// A histogram of the finite `values` in `bins` equal bins (clamped to `1..=10000`) over
    /// their range; bar heights are counts.
    pub fn hist(&mut self, values: &[f64], bins: usize, style: Style) -> &mut Self {
        let Some((lo, hi)) = finite_range(values.iter().copied(), false) else {
            self.resolve(style.color);
            return self;
        };
        let bins = bins.clamp(1, 10_000);
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        };
        let edges: Vec<f64> = (0..=bins)
            .map(|k| lo + (hi - lo) * k as f64 / bins as f64)
            .collect();
        self.hist_edges(values, &edges, style)
    }

    /// A histogram with given bin edges (sorted, finite; others are dropped), so that two
    /// distributions (e.g. true and fitted `J_ij`) share bins. A value on an inner edge
    /// counts in the bin to its right; the last bin includes its right edge.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let edges = [-1.0, 0.0, 1.0];
    /// let mut fig = Figure::new(300, 200);
    /// fig.ax()
    ///     .hist_edges(&[-0.5, 0.2, 0.4, f64::NAN], &edges, Style::new().alpha(0.6).label("true"))
    ///     .hist_edges(&[-0.3, -0.2, 0.9], &edges, Style::new().alpha(0.6).label("fitted"));
    /// assert!(fig.to_svg().contains("fitted"));
    /// ```
    pub fn hist_edges(&mut self, values: &[f64], edges: &[f64], style: Style) -> &mut Self {
        let mut e: Vec<f64> = edges.iter().copied().filter(|v| v.is_finite()).collect();
        e.sort_by(f64::total_cmp);
        e.dedup();
        let color = self.resolve(style.color);
        if e.len() < 2 {
            return self;
        }
        let mut counts = vec![0usize; e.len() - 1];
        for &v in values.iter().filter(|v| v.is_finite()) {
            let last = e.len() - 1;
            if v < e[0] || v > e[last] {
                continue;
            }
            let k = e.partition_point(|&edge| edge <= v).saturating_sub(1);
            counts[k.min(last - 1)] += 1;
        }
        let rects = counts
            .iter()
            .enumerate()
            .map(|(k, &c)| [e[k], e[k + 1], 0.0, c as f64])
            .collect();
        self.items.push(Item::Rects {
            rects,
            color,
            style,
        });
        self
    }

    /// Bars of the given `heights` centred on `xs`, each `width` wide (data units), from 0.
    /// For grouped bars, offset the `xs` of each group.
    pub fn bar(&mut self, xs: &[f64], heights: &[f64], width: f64, style: Style) -> &mut Self {
        let color = self.resolve(style.color);
        let w = if width.is_finite() {
            width.abs() / 2.0
        } else {
            0.4
        };
        let rects = xs
            .iter()
            .zip(heights)
            .map(|(&x, &h)| [x - w, x + w, 0.0, h])
            .collect();
        self.items.push(Item::Rects {
            rects,
            color,
            style,
        });
        self
    }

    /// Fills between the curves `lo` and `hi` over `xs` (at `style.alpha`, default 0.3 when
    /// the style's alpha is 1), e.g. a confidence band.
    pub fn fill_between(&mut self, xs: &[f64], lo: &[f64], hi: &[f64], style: Style) -> &mut Self {
        let color = self.resolve(style.color);
        let n = xs.len().min(lo.len()).min(hi.len());
        let style = if style.alpha >= 1.0 {
            style.alpha(0.3)
        } else {
            style
        };
        let (xs, lo, hi) = (xs[..n].to_vec(), lo[..n].to_vec(), hi[..n].to_vec());
        self.items.push(Item::Fill {
            xs,
            lo,
            hi,
            color,
            style,
        });
        self
    }

    /// Layers stacked on top of each other over `xs` (e.g. state probabilities summing to
    /// one), in palette order, labelled by `labels` (missing labels: no legend entry).
    /// Non-finite values count as 0 in the stack.
    ///
    /// # Example: probabilities of two states over time
    /// ```
    /// use neurodyn::plot::Figure;
    /// let t = [0.0, 1.0, 2.0, 3.0];
    /// let (p0, p1) = ([0.9, 0.6, 0.2, 0.1], [0.1, 0.4, 0.8, 0.9]);
    /// let mut fig = Figure::new(400, 200);
    /// fig.ax().stackplot(&t, &[&p0, &p1], &["state 0", "state 1"]).ylim(0.0, 1.0);
    /// assert!(fig.to_svg().contains("state 1"));
    /// ```
    pub fn stackplot(&mut self, xs: &[f64], layers: &[&[f64]], labels: &[&str]) -> &mut Self {
        let mut base = vec![0.0; xs.len()];
        for (k, layer) in layers.iter().enumerate() {
            let top: Vec<f64> = base
                .iter()
                .zip(layer.iter().chain(std::iter::repeat(&0.0)))
                .map(|(&b, &v)| if v.is_finite() { b + v } else { b })
                .collect();
            let mut style = Style::new().alpha(0.85);
            if let Some(l) = labels.get(k) {
                style = style.label(*l);
            }
            self.fill_between(xs, &base, &top, style);
            base = top;
        }
        self
    }

    /// Shades the time axis by discrete state: each run of equal `states[k]` becomes a band
    /// from `ts[start]` to the next run's start (the last to `ts[last]`), in palette colour
    /// `state` at low opacity, with one legend entry "state k" per state.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let t: Vec<f64> = (0..6).map(f64::from).collect();
    /// let mut fig = Figure::new(400, 200);
    /// fig.ax()
    ///     .state_bands(&t, &[0, 0, 1, 1, 1, 0])
    ///     .line(&t, &[0.1, 0.2, 1.1, 0.9, 1.0, 0.2], Style::new());
    /// let svg = fig.to_svg();
    /// assert!(svg.contains(">state 0<") && svg.contains(">state 1<"));
    /// ```
    pub fn state_bands(&mut self, ts: &[f64], states: &[usize]) -> &mut Self {
        let n = ts.len().min(states.len());
        let mut seen = Vec::new();
        let mut start = 0;
        for k in 1..=n {
            if k < n && states[k] == states[start] {
                continue;
            }
            let s = states[start];
            let x1 = ts[k.min(n - 1)];
            let label = (!seen.contains(&s)).then(|| format!("state {s}"));
            seen.push(s);
            let (color, alpha) = (Color::palette(s), 0.22);
            self.items.push(Item::Span {
                x0: ts[start],
                x1,
                color,
                alpha,
                label,
            });
            start = k;
        }
        self
    }

    /// Fixed points of one stability type at `(xs[k], ys[k])`, marked as in phase portraits:
    /// stable filled, unstable open, saddle half-filled. The legend names the type once.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, FixedPointKind};
    /// let mut fig = Figure::new(300, 300);
    /// fig.ax()
    ///     .fixed_points(&[-1.0, 1.0], &[0.0, 0.0], FixedPointKind::Stable)
    ///     .fixed_points(&[0.0], &[0.0], FixedPointKind::Saddle);
    /// let svg = fig.to_svg();
    /// assert!(svg.contains(">stable<") && svg.contains(">saddle<"));
    /// ```
    pub fn fixed_points(&mut self, xs: &[f64], ys: &[f64], kind: FixedPointKind) -> &mut Self {
        let label = !self
            .items
            .iter()
            .any(|i| matches!(i, Item::FixedPoints { kind: k, .. } if *k == kind));
        self.items.push(Item::FixedPoints {
            pts: zip2(xs, ys),
            kind,
            label,
        });
        self
    }

    /// A text note whose left end sits at data point `(x, y)` (not drawn if non-finite).
    pub fn text(&mut self, x: f64, y: f64, text: impl Into<String>) -> &mut Self {
        self.items.push(Item::Text {
            x,
            y,
            text: text.into(),
        });
        self
    }

    /// A horizontal reference line across the plot at `y` (grey unless coloured).
    pub fn hline(&mut self, y: f64, style: Style) -> &mut Self {
        let color = style.color.unwrap_or(Color::GREY);
        self.items.push(Item::HLine { y, color, style });
        self
    }

    /// A vertical reference line across the plot at `x` (grey unless coloured).
    pub fn vline(&mut self, x: f64, style: Style) -> &mut Self {
        let color = style.color.unwrap_or(Color::GREY);
        self.items.push(Item::VLine { x, color, style });
        self
    }
}
