//! What an axes holds: one [`Item`] per call (`line`, `scatter`, …), with its data already
//! validated (lengths matched; non-finite values stay in and are skipped when drawn), and the
//! two things the layout asks of items: their data bounds and their legend entries.

use super::color::{Color, Colormap};
use super::style::{FixedPointKind, Style};

/// A heatmap's data: `rows × cols` values, row-major, row `r` spanning
/// `y0 + r·(y1 − y0)/rows ..` and column `c` spanning `x0 + c·(x1 − x0)/cols ..`.
#[derive(Clone, Debug)]
pub(crate) struct Heatmap {
    pub values: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    /// `[x0, x1, y0, y1]`.
    pub extent: [f64; 4],
    pub cmap: Colormap,
}

/// One drawable series. Colours are resolved when the item is added.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    Line {
        pts: Vec<(f64, f64)>,
        color: Color,
        style: Style,
    },
    Scatter {
        pts: Vec<(f64, f64)>,
        color: Color,
        style: Style,
    },
    Quiver {
        pts: Vec<(f64, f64)>,
        vecs: Vec<(f64, f64)>,
        color: Color,
        style: Style,
    },
    Contour {
        lines: Vec<Vec<(f64, f64)>>,
        color: Color,
        style: Style,
    },
    Heatmap(Heatmap),
    /// Axis-aligned rectangles `[x0, x1, y0, y1]` (bars, histogram bins).
    Rects {
        rects: Vec<[f64; 4]>,
        color: Color,
        style: Style,
    },
    /// The band between two curves over shared x values.
    Fill {
        xs: Vec<f64>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        color: Color,
        style: Style,
    },
    /// A vertical band over the full height (e.g. a discrete state's time interval).
    Span {
        x0: f64,
        x1: f64,
        color: Color,
        alpha: f64,
        label: Option<String>,
    },
    HLine {
        y: f64,
        color: Color,
        style: Style,
    },
    VLine {
        x: f64,
        color: Color,
        style: Style,
    },
    FixedPoints {
        pts: Vec<(f64, f64)>,
        kind: FixedPointKind,
        label: bool,
    },
    Text {
        x: f64,
        y: f64,
        text: String,
    },
}

/// A legend entry's sample graphic.
#[derive(Clone, Debug)]
pub(crate) enum Swatch {
    /// A short line (with the series' marker, if any).
    Line(Color, Style),
    /// A single marker.
    Marker(Color, Style),
    /// A filled square.
    Patch(Color, f64),
    FixedPoint(FixedPointKind),
}

/// Data bounds gathered over items, with the values padding must not cross.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bounds {
    pub x: Option<(f64, f64)>,
    pub y: Option<(f64, f64)>,
    pub sticky_x: Vec<f64>,
    pub sticky_y: Vec<f64>,
}

fn grow(r: &mut Option<(f64, f64)>, v: f64, log: bool) {
    if !v.is_finite() || (log && v <= 0.0) {
        return;
    }
    let v = v.clamp(-super::scale::HUGE, super::scale::HUGE);
    *r = Some(match *r {
        None => (v, v),
        Some((a, b)) => (a.min(v), b.max(v)),
    });
}

impl Bounds {
    fn point(&mut self, x: f64, y: f64, log_y: bool) {
        // A point counts only where both coordinates can be drawn.
        if x.is_finite() && y.is_finite() && (!log_y || y > 0.0) {
            grow(&mut self.x, x, false);
            grow(&mut self.y, y, log_y);
        }
    }
}

impl Item {
    /// Adds this item's extent to `b`.
    pub fn bounds(&self, b: &mut Bounds, log_y: bool) {
        match self {
            Item::Line { pts, .. } | Item::Scatter { pts, .. } | Item::Quiver { pts, .. } => {
                pts.iter().for_each(|&(x, y)| b.point(x, y, log_y))
            }
            Item::FixedPoints { pts, .. } => pts.iter().for_each(|&(x, y)| b.point(x, y, log_y)),
            Item::Contour { lines, .. } => lines
                .iter()
                .flatten()
                .for_each(|&(x, y)| b.point(x, y, log_y)),
            Item::Heatmap(h) => {
                let [x0, x1, y0, y1] = h.extent;
                b.point(x0, y0, log_y);
                b.point(x1, y1, log_y);
                b.sticky_x.extend([x0, x1]);
                b.sticky_y.extend([y0, y1]);
            }
            Item::Rects { rects, .. } => {
                for &[x0, x1, y0, y1] in rects {
                    b.point(x0, y0, log_y);
                    b.point(x1, y1, log_y);
                    b.sticky_y.push(y0);
                }
            }
            Item::Fill { xs, lo, hi, .. } => {
                for ((&x, &l), &h) in xs.iter().zip(lo).zip(hi) {
                    b.point(x, l, log_y);
                    b.point(x, h, log_y);
                }
            }
            Item::Span { x0, x1, .. } => {
                grow(&mut b.x, *x0, false);
                grow(&mut b.x, *x1, false);
                b.sticky_x.extend([*x0, *x1]);
            }
            Item::HLine { y, .. } => grow(&mut b.y, *y, log_y),
            Item::VLine { x, .. } => grow(&mut b.x, *x, false),
            Item::Text { x, y, .. } => b.point(*x, *y, log_y),
        }
    }

    /// The legend entry, if the item has a label.
    pub fn legend(&self) -> Option<(String, Swatch)> {
        match self {
            Item::Line { color, style, .. }
            | Item::Contour { color, style, .. }
            | Item::HLine { color, style, .. }
            | Item::VLine { color, style, .. }
            | Item::Quiver { color, style, .. } => {
                Some((style.label.clone()?, Swatch::Line(*color, style.clone())))
            }
            Item::Scatter { color, style, .. } => {
                Some((style.label.clone()?, Swatch::Marker(*color, style.clone())))
            }
            Item::Rects { color, style, .. } | Item::Fill { color, style, .. } => {
                let alpha = style.sanitized().2;
                Some((style.label.clone()?, Swatch::Patch(*color, alpha)))
            }
            Item::Span {
                color,
                alpha,
                label,
                ..
            } => Some((
                label.clone()?,
                Swatch::Patch(*color, (*alpha * 2.0).min(1.0)),
            )),
            Item::FixedPoints {
                kind, label: true, ..
            } => Some((kind.name().to_string(), Swatch::FixedPoint(*kind))),
            Item::FixedPoints { .. } | Item::Heatmap(_) | Item::Text { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_skip_bad_points_and_record_sticky_edges() {
        let mut b = Bounds::default();
        let line = Item::Line {
            pts: vec![(0.0, 1.0), (f64::NAN, 5.0), (2.0, -3.0)],
            color: Color::BLACK,
            style: Style::new(),
        };
        line.bounds(&mut b, false);
        assert_eq!((b.x, b.y), (Some((0.0, 2.0)), Some((-3.0, 1.0))));
        let mut b = Bounds::default();
        line.bounds(&mut b, true);
        assert_eq!((b.x, b.y), (Some((0.0, 0.0)), Some((1.0, 1.0))));
        let bars = Item::Rects {
            rects: vec![[0.0, 1.0, 0.0, 4.0]],
            color: Color::BLACK,
            style: Style::new(),
        };
        bars.bounds(&mut b, false);
        assert_eq!(b.sticky_y, [0.0]);
    }
}
