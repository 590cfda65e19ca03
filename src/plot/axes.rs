//! [`Axes`]: one panel of a figure, with its decorations (title, labels, limits, ticks,
//! legend, colour bar). The series methods (`line`, `scatter`, …) are in `series.rs`.

use super::color::Color;
use super::item::Item;
use super::style::LegendPos;

/// One panel: a plot area with axes, ticks, labels and a legend. Get one from a
/// [`Figure`](super::Figure) (`fig.ax()`, `fig.panel(row, col)`); every method returns
/// `&mut Self` so calls chain.
///
/// Limits follow the data (with 5 % padding that stops at a bar chart's baseline or a
/// heatmap's edges) unless set with [`xlim`](Axes::xlim)/[`ylim`](Axes::ylim). Series without
/// a colour take the next one from the Okabe–Ito palette. NaN and infinite values are never
/// drawn: a line is broken where they occur.
///
/// # Example
/// ```
/// use neurodyn::plot::{Figure, LegendPos, Style};
/// let mut fig = Figure::new(480, 320);
/// fig.ax()
///     .line(&[0.0, 1.0, 2.0], &[1.0, 0.5, 0.2], Style::new().label("train"))
///     .line(&[0.0, 1.0, 2.0], &[1.1, 0.7, 0.5], Style::new().label("validation"))
///     .title("Training")
///     .xlabel("epoch")
///     .ylabel("loss")
///     .log_y(true)
///     .legend(LegendPos::UpperRight);
/// let svg = fig.to_svg();
/// assert!(svg.contains("validation"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Axes {
    pub(crate) items: Vec<Item>,
    pub(crate) title: Option<String>,
    pub(crate) xlabel: Option<String>,
    pub(crate) ylabel: Option<String>,
    pub(crate) xlim: Option<(f64, f64)>,
    pub(crate) ylim: Option<(f64, f64)>,
    pub(crate) log_y: bool,
    pub(crate) invert_y: bool,
    pub(crate) aspect_equal: bool,
    pub(crate) grid: bool,
    pub(crate) legend: LegendPos,
    pub(crate) xticks: Option<Vec<(f64, String)>>,
    pub(crate) yticks: Option<Vec<(f64, String)>>,
    pub(crate) colorbar: Option<String>,
    pub(crate) clim: Option<(f64, f64)>,
    next_color: usize,
}

impl Axes {
    /// An empty panel.
    pub(crate) fn new() -> Self {
        Axes::default()
    }

    /// `c`, or the next palette colour when `c` is `None`.
    pub(crate) fn resolve(&mut self, c: Option<Color>) -> Color {
        c.unwrap_or_else(|| {
            let c = Color::palette(self.next_color);
            self.next_color += 1;
            c
        })
    }

    /// Sets the title shown above the plot area.
    pub fn title(&mut self, text: impl Into<String>) -> &mut Self {
        self.title = Some(text.into());
        self
    }

    /// Sets the x-axis label.
    pub fn xlabel(&mut self, text: impl Into<String>) -> &mut Self {
        self.xlabel = Some(text.into());
        self
    }

    /// Sets the y-axis label.
    pub fn ylabel(&mut self, text: impl Into<String>) -> &mut Self {
        self.ylabel = Some(text.into());
        self
    }

    /// Fixes the x range to `[lo, hi]` (given in either order). A NaN, infinite or empty range
    /// is ignored and the limits follow the data.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let mut fig = Figure::new(300, 200);
    /// fig.ax().line(&[0.0, 5.0], &[0.0, 1.0], Style::new()).xlim(0.0, 10.0).ylim(f64::NAN, 1.0);
    /// assert!(fig.to_svg().contains(">10<"));
    /// ```
    pub fn xlim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.xlim = valid_range(lo, hi, false);
        self
    }

    /// Fixes the y range to `[lo, hi]`, like [`xlim`](Axes::xlim). On a log axis both must be
    /// positive.
    pub fn ylim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.ylim = valid_range(lo, hi, false);
        self
    }

    /// Makes the y axis logarithmic (base 10, decade ticks). Non-positive values are not drawn.
    pub fn log_y(&mut self, on: bool) -> &mut Self {
        self.log_y = on;
        self
    }

    /// Runs the y axis downwards (largest values at the bottom), as for a matrix whose first
    /// row is drawn on top.
    pub fn invert_y(&mut self, on: bool) -> &mut Self {
        self.invert_y = on;
        self
    }

    /// One data unit takes the same number of pixels on both axes (for phase portraits and
    /// matrices): the limits are kept and the plot area shrinks, centred in its cell, to the
    /// data's aspect ratio. Ignored on a log axis.
    pub fn aspect_equal(&mut self, on: bool) -> &mut Self {
        self.aspect_equal = on;
        self
    }

    /// Draws light grid lines at the major ticks.
    pub fn grid(&mut self, on: bool) -> &mut Self {
        self.grid = on;
        self
    }

    /// Places (or hides) the legend. A legend appears only if some series has a label.
    pub fn legend(&mut self, pos: LegendPos) -> &mut Self {
        self.legend = pos;
        self
    }

    /// Replaces the automatic x ticks by labelled positions (e.g. categories of a bar chart).
    /// Extra labels or positions are ignored; non-finite positions are dropped.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Figure, Style};
    /// let mut fig = Figure::new(300, 200);
    /// fig.ax()
    ///     .bar(&[0.0, 1.0, 2.0], &[0.91, 0.87, 0.95], 0.7, Style::new())
    ///     .xticks(&[0.0, 1.0, 2.0], &["gnODE", "GRU", "low-rank"]);
    /// assert!(fig.to_svg().contains(">low-rank<"));
    /// ```
    pub fn xticks(&mut self, positions: &[f64], labels: &[&str]) -> &mut Self {
        self.xticks = Some(labelled(positions, labels));
        self
    }

    /// Replaces the automatic y ticks by labelled positions, like [`xticks`](Axes::xticks).
    pub fn yticks(&mut self, positions: &[f64], labels: &[&str]) -> &mut Self {
        self.yticks = Some(labelled(positions, labels));
        self
    }

    /// Shows a colour bar for this panel's heatmap to the right of the plot area, with a
    /// label (may be empty). Without a heatmap nothing is drawn.
    pub fn colorbar(&mut self, label: impl Into<String>) -> &mut Self {
        self.colorbar = Some(label.into());
        self
    }

    /// Fixes the value range that heatmaps map onto their colormap (default: the data's
    /// finite range). Ignored if NaN, infinite or empty.
    pub fn clim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.clim = valid_range(lo, hi, false);
        self
    }
}

/// `(lo, hi)` sorted, if both are finite and distinct (and positive when `log`).
pub(crate) fn valid_range(a: f64, b: f64, log: bool) -> Option<(f64, f64)> {
    let (lo, hi) = (a.min(b), a.max(b));
    let ok = lo.is_finite() && hi.is_finite() && lo < hi && (!log || lo > 0.0);
    ok.then_some((lo, hi))
}

fn labelled(positions: &[f64], labels: &[&str]) -> Vec<(f64, String)> {
    positions
        .iter()
        .zip(labels)
        .filter(|(p, _)| p.is_finite())
        .map(|(&p, &l)| (p, l.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_validated() {
        assert_eq!(valid_range(2.0, 1.0, false), Some((1.0, 2.0)));
        assert_eq!(valid_range(1.0, 1.0, false), None);
        assert_eq!(valid_range(f64::NAN, 1.0, false), None);
        assert_eq!(valid_range(-1.0, 1.0, true), None);
    }

    #[test]
    fn palette_cycles_only_for_unset_colours() {
        let mut ax = Axes::new();
        assert_eq!(ax.resolve(None), Color::palette(0));
        assert_eq!(ax.resolve(Some(Color::BLACK)), Color::BLACK);
        assert_eq!(ax.resolve(None), Color::palette(1));
    }
}
