//! How a series looks: [`Style`] (colour, width, dash, alpha, marker, label) and the small
//! enums it uses, plus [`FixedPointKind`] and [`LegendPos`].

use super::color::Color;

/// Marker shapes for scatter plots and line vertices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Marker {
    /// A filled disc.
    #[default]
    Circle,
    /// An unfilled ring (white inside).
    OpenCircle,
    /// A filled square.
    Square,
    /// A filled upward triangle.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A diagonal cross (×), stroked.
    Cross,
    /// An upright cross (+), stroked.
    Plus,
}

/// Line dash patterns (dash lengths scale with the line width).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineDash {
    /// A continuous line.
    #[default]
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
}

impl LineDash {
    /// Dash and gap lengths in px for a line of width `w`.
    pub(crate) fn pattern(self, w: f64) -> Option<(f64, f64)> {
        let w = w.max(0.5);
        match self {
            LineDash::Solid => None,
            LineDash::Dashed => Some((3.7 * w, 1.6 * w)),
            LineDash::Dotted => Some((0.01, 1.65 * w)),
        }
    }
}

/// The look of one series. `Style::default()` is a solid 1.8 px line in the axes' next palette
/// colour, no markers, no legend entry. Builder methods consume and return the style.
///
/// # Example
/// ```
/// use neurodyn::plot::{Color, LineDash, Marker, Style};
/// let s = Style::new().color(Color::palette(2)).width(2.5).dash(LineDash::Dashed).label("fit");
/// assert_eq!(s.label.as_deref(), Some("fit"));
/// let dots = Style::new().marker(Marker::Square).size(4.0).alpha(0.6);
/// assert_eq!(dots.marker, Some(Marker::Square));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Colour; `None` takes the axes' next colour from the palette.
    pub color: Option<Color>,
    /// Line width in px (default 1.8).
    pub width: f64,
    /// Dash pattern of lines.
    pub dash: LineDash,
    /// Opacity in `[0, 1]` (default 1).
    pub alpha: f64,
    /// Marker drawn at each point: lines default to none, scatter plots to a circle.
    pub marker: Option<Marker>,
    /// Marker diameter in px (default 6).
    pub size: f64,
    /// Legend text; series without a label are left out of the legend.
    pub label: Option<String>,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: None,
            width: 1.8,
            dash: LineDash::Solid,
            alpha: 1.0,
            marker: None,
            size: 6.0,
            label: None,
        }
    }
}

impl Style {
    /// The default style.
    pub fn new() -> Self {
        Style::default()
    }

    /// Sets the colour.
    pub fn color(mut self, c: Color) -> Self {
        self.color = Some(c);
        self
    }

    /// Sets the line width in px.
    pub fn width(mut self, w: f64) -> Self {
        self.width = w;
        self
    }

    /// Sets the dash pattern.
    pub fn dash(mut self, d: LineDash) -> Self {
        self.dash = d;
        self
    }

    /// Sets the opacity (clamped to `[0, 1]` when drawn).
    pub fn alpha(mut self, a: f64) -> Self {
        self.alpha = a;
        self
    }

    /// Sets the marker.
    pub fn marker(mut self, m: Marker) -> Self {
        self.marker = Some(m);
        self
    }

    /// Sets the marker diameter in px.
    pub fn size(mut self, s: f64) -> Self {
        self.size = s;
        self
    }

    /// Sets the legend label.
    pub fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }

    /// Width, size and alpha with non-finite or out-of-range values replaced by sane ones.
    pub(crate) fn sanitized(&self) -> (f64, f64, f64) {
        let ok = |v: f64, lo: f64, hi: f64, d: f64| if v.is_finite() { v.clamp(lo, hi) } else { d };
        (
            ok(self.width, 0.0, 50.0, 1.8),
            ok(self.size, 0.0, 100.0, 6.0),
            ok(self.alpha, 0.0, 1.0, 1.0),
        )
    }
}

/// The stability type of a fixed point, which sets its marker: stable filled, unstable open,
/// saddle half-filled (the usual phase-portrait convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FixedPointKind {
    /// All eigenvalues of the Jacobian have negative real part: a filled disc.
    Stable,
    /// All eigenvalues have positive real part: an open ring.
    Unstable,
    /// Eigenvalues of both signs: a half-filled disc.
    Saddle,
}

impl FixedPointKind {
    /// The legend text: `"stable"`, `"unstable"` or `"saddle"`.
    pub fn name(self) -> &'static str {
        match self {
            FixedPointKind::Stable => "stable",
            FixedPointKind::Unstable => "unstable",
            FixedPointKind::Saddle => "saddle",
        }
    }
}

/// Where an axes' legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegendPos {
    /// The inside corner that hides the fewest data points (default).
    #[default]
    Best,
    /// Inside, top right.
    UpperRight,
    /// Inside, top left.
    UpperLeft,
    /// Inside, bottom right.
    LowerRight,
    /// Inside, bottom left.
    LowerLeft,
    /// Outside the plot area, to its right (the panel's plot area shrinks to make room).
    Outside,
    /// No legend.
    Hidden,
}
