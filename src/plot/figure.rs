//! [`Figure`]: the page. A grid of [`Axes`] panels with optional size ratios and a suptitle,
//! laid out so that plot areas line up along rows and columns, and written as SVG.

use super::axes::Axes;
use super::layout::{self, Margins, PAD, SUPTITLE_FONT};
use super::panel;
use super::svg::{Anchor, Svg};

/// Panels per row or column are capped at this.
const MAX_GRID: usize = 64;

/// A figure of `width × height` pixels holding a grid of panels.
///
/// Panels in the same column share their left and right margins, and panels in the same row
/// their top and bottom ones, so plot areas align (stacked panels over a shared time axis line
/// up exactly). Panels never touched (no series, no labels) are left blank.
///
/// # Example: a two-panel figure, saved as SVG and PNG
/// ```
/// use neurodyn::plot::{Figure, Style};
/// let t: Vec<f64> = (0..100).map(|k| k as f64 * 0.1).collect();
/// let x: Vec<f64> = t.iter().map(|t| t.sin()).collect();
/// let mut fig = Figure::grid(800, 300, 1, 2);
/// fig.suptitle("An oscillator");
/// fig.panel(0, 0).line(&t, &x, Style::new()).xlabel("time").ylabel("x");
/// fig.panel(0, 1).hist(&x, 20, Style::new()).xlabel("x").ylabel("count");
/// let svg = fig.to_svg();
/// assert!(svg.starts_with("<svg"));
/// let png = fig.to_png()?;
/// assert_eq!(&png[1..4], b"PNG");
/// let dir = std::env::temp_dir();
/// fig.save(dir.join("neurodyn-doc-figure.svg"))?;
/// fig.save(dir.join("neurodyn-doc-figure.png"))?;
/// assert!(fig.save(dir.join("figure.jpg")).is_err());
/// # Ok::<(), neurodyn::plot::PlotError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Figure {
    pub(crate) width: u32,
    pub(crate) height: u32,
    rows: usize,
    cols: usize,
    panels: Vec<Axes>,
    suptitle: Option<String>,
    row_ratios: Vec<f64>,
    col_ratios: Vec<f64>,
}

impl Figure {
    /// A figure with a single panel ([`ax`](Figure::ax)).
    pub fn new(width: u32, height: u32) -> Self {
        Figure::grid(width, height, 1, 1)
    }

    /// A figure with `rows × cols` panels (each clamped to `1..=64`).
    pub fn grid(width: u32, height: u32, rows: usize, cols: usize) -> Self {
        let (rows, cols) = (rows.clamp(1, MAX_GRID), cols.clamp(1, MAX_GRID));
        Figure {
            width,
            height,
            rows,
            cols,
            panels: vec![Axes::new(); rows * cols],
            suptitle: None,
            row_ratios: vec![1.0; rows],
            col_ratios: vec![1.0; cols],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// `(rows, cols)` of the panel grid.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The first (top-left) panel.
    pub fn ax(&mut self) -> &mut Axes {
        &mut self.panels[0]
    }

    /// The panel in row `row`, column `col` (from the top left).
    ///
    /// # Panics
    /// If `row` or `col` lies outside the grid (a programmer error; see [`shape`](Figure::shape)).
    #[track_caller]
    pub fn panel(&mut self, row: usize, col: usize) -> &mut Axes {
        assert!(
            row < self.rows && col < self.cols,
            "Figure::panel({row}, {col}) outside a {}×{} grid",
            self.rows,
            self.cols
        );
        &mut self.panels[row * self.cols + col]
    }

    /// Sets a title above all panels.
    pub fn suptitle(&mut self, text: impl Into<String>) -> &mut Self {
        self.suptitle = Some(text.into());
        self
    }

    /// Relative row heights (e.g. `[2.0, 1.0]` for a tall panel above a short one). Missing,
    /// non-finite or non-positive entries count as 1.
    pub fn row_ratios(&mut self, ratios: &[f64]) -> &mut Self {
        self.row_ratios = sanitize_ratios(ratios, self.rows);
        self
    }

    /// Relative column widths, like [`row_ratios`](Figure::row_ratios).
    pub fn col_ratios(&mut self, ratios: &[f64]) -> &mut Self {
        self.col_ratios = sanitize_ratios(ratios, self.cols);
        self
    }

    /// The figure as a standalone SVG document. Never fails: bad data are skipped, and text is
    /// escaped.
    pub fn to_svg(&self) -> String {
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let mut svg = Svg::new(self.width, self.height);
        let top0 = match &self.suptitle {
            Some(t) => {
                svg.text(
                    0.5 * w,
                    PAD + 0.95 * SUPTITLE_FONT,
                    t,
                    SUPTITLE_FONT,
                    Anchor::Middle,
                    0.0,
                );
                PAD + 1.5 * SUPTITLE_FONT
            }
            None => 0.0,
        };
        let xe = edges(&self.col_ratios, 0.0, w);
        let ye = edges(&self.row_ratios, top0, h);
        let cell = |k: usize| {
            [
                xe[k % self.cols],
                ye[k / self.cols],
                xe[k % self.cols + 1],
                ye[k / self.cols + 1],
            ]
        };
        let used = |ax: &Axes| {
            !ax.items.is_empty() || ax.title.is_some() || ax.xlabel.is_some() || ax.ylabel.is_some()
        };
        let margins: Vec<Option<Margins>> = self
            .panels
            .iter()
            .enumerate()
            .map(|(k, ax)| used(ax).then(|| layout::margins(ax, cell(k))))
            .collect();
        let mut col_m = vec![Margins::default(); self.cols];
        let mut row_m = vec![Margins::default(); self.rows];
        for (k, m) in margins.iter().enumerate() {
            if let Some(m) = m {
                let (c, r) = (&mut col_m[k % self.cols], &mut row_m[k / self.cols]);
                c.left = c.left.max(m.left);
                c.right = c.right.max(m.right);
                r.top = r.top.max(m.top);
                r.bottom = r.bottom.max(m.bottom);
            }
        }
        for (k, ax) in self.panels.iter().enumerate() {
            if margins[k].is_none() {
                continue;
            }
            let [x0, y0, x1, y1] = cell(k);
            let (c, r) = (col_m[k % self.cols], row_m[k / self.cols]);
            let rect = [x0 + c.left, y0 + r.top, x1 - c.right, y1 - r.bottom];
            let frame = layout::frame(ax, layout::limits(ax), rect);
            panel::render(&mut svg, ax, &frame, k);
        }
        svg.finish()
    }
}

fn sanitize_ratios(ratios: &[f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            ratios
                .get(k)
                .copied()
                .filter(|r| r.is_finite() && *r > 0.0)
                .unwrap_or(1.0)
        })
        .collect()
}

/// Cell boundaries splitting `[a, b]` in proportion to `ratios`.
fn edges(ratios: &[f64], a: f64, b: f64) -> Vec<f64> {
    let total: f64 = ratios.iter().sum();
    let mut acc = 0.0;
    let mut out = vec![a];
    for r in ratios {
        acc += r;
        out.push(a + (b - a) * acc / total);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_clamped_and_ratios_sanitized() {
        let mut f = Figure::grid(100, 100, 0, 1000);
        assert_eq!(f.shape(), (1, MAX_GRID));
        f.col_ratios(&[2.0, f64::NAN, -1.0]);
        assert_eq!(&f.col_ratios[..4], &[2.0, 1.0, 1.0, 1.0]);
        assert_eq!(edges(&[1.0, 3.0], 0.0, 100.0), [0.0, 25.0, 100.0]);
    }

    #[test]
    #[should_panic(expected = "outside a 1×1 grid")]
    fn panel_out_of_range_panics() {
        Figure::new(10, 10).panel(1, 0);
    }
}
