//! Legends: the entries of an axes, their box size, where the box goes ("best" = the inside
//! corner covering the fewest data points), and drawing it.

use super::axes::Axes;
use super::color::Color;
use super::glyph;
use super::item::{Item, Swatch};
use super::layout::Frame;
use super::metrics::text_width;
use super::style::LegendPos;
use super::svg::{Anchor, Paint, Svg};

const FONT: f64 = 10.5;
const ROW: f64 = 17.0;
const PAD: f64 = 7.0;
const SWATCH: f64 = 24.0;
const GAP: f64 = 6.0;
/// Distance between an inside legend and the plot area's edges.
const INSET: f64 = 6.0;

/// The labelled entries of `ax`, in insertion order.
pub(crate) fn entries(ax: &Axes) -> Vec<(String, Swatch)> {
    ax.items.iter().filter_map(Item::legend).collect()
}

/// Width and height of the legend box (`(0, 0)` without entries).
pub(crate) fn size(entries: &[(String, Swatch)]) -> (f64, f64) {
    if entries.is_empty() {
        return (0.0, 0.0);
    }
    let text = entries
        .iter()
        .map(|(l, _)| text_width(l, FONT))
        .fold(0.0, f64::max);
    (
        2.0 * PAD + SWATCH + GAP + text,
        2.0 * PAD + ROW * entries.len() as f64 - 4.0,
    )
}

/// Pixel positions of the data that a legend should not hide.
fn data_points(ax: &Axes, f: &Frame) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut add = |x: f64, y: f64| {
        if let (Some(px), Some(py)) = (f.sx.map(x), f.sy.map(y)) {
            out.push((px, py));
        }
    };
    for item in &ax.items {
        match item {
            Item::Line { pts, .. } => {
                // Points along each segment too, so that sparse lines count where they run.
                for w in pts.windows(2) {
                    for k in 0..8 {
                        let t = f64::from(k) / 8.0;
                        add(
                            w[0].0 + t * (w[1].0 - w[0].0),
                            w[0].1 + t * (w[1].1 - w[0].1),
                        );
                    }
                }
                if let Some(&(x, y)) = pts.last() {
                    add(x, y);
                }
            }
            Item::Scatter { pts, .. }
            | Item::FixedPoints { pts, .. }
            | Item::Quiver { pts, .. } => pts.iter().for_each(|&(x, y)| add(x, y)),
            Item::Contour { lines, .. } => lines.iter().flatten().for_each(|&(x, y)| add(x, y)),
            Item::Rects { rects, .. } => {
                for r in rects {
                    for k in 0..=4 {
                        let t = f64::from(k) / 4.0;
                        add(r[0] + t * (r[1] - r[0]), r[3]);
                        add(0.5 * (r[0] + r[1]), r[2] + t * (r[3] - r[2]));
                    }
                }
            }
            Item::Fill { xs, lo, hi, .. } => {
                for ((&x, &l), &h) in xs.iter().zip(lo).zip(hi) {
                    add(x, l);
                    add(x, h);
                }
            }
            _ => {}
        }
    }
    out
}

/// The legend box's top-left corner for `pos`.
fn place(ax: &Axes, f: &Frame, pos: LegendPos, (w, h): (f64, f64)) -> (f64, f64) {
    let corner = |p: LegendPos| match p {
        LegendPos::UpperLeft => (f.left + INSET, f.top + INSET),
        LegendPos::LowerRight => (f.right - INSET - w, f.bottom - INSET - h),
        LegendPos::LowerLeft => (f.left + INSET, f.bottom - INSET - h),
        LegendPos::Outside => (f.right + 10.0, f.top),
        _ => (f.right - INSET - w, f.top + INSET),
    };
    if pos != LegendPos::Best {
        return corner(pos);
    }
    let pts = data_points(ax, f);
    let candidates = [
        LegendPos::UpperRight,
        LegendPos::UpperLeft,
        LegendPos::LowerRight,
        LegendPos::LowerLeft,
    ];
    let hidden = |c: &LegendPos| {
        let (x, y) = corner(*c);
        pts.iter()
            .filter(|p| p.0 >= x && p.0 <= x + w && p.1 >= y && p.1 <= y + h)
            .count()
    };
    let best = candidates
        .iter()
        .min_by_key(|c| hidden(c))
        .copied()
        .unwrap_or(LegendPos::UpperRight);
    corner(best)
}

/// Draws the legend of `ax`, if it has entries and is not hidden.
pub(crate) fn draw(svg: &mut Svg, ax: &Axes, f: &Frame) {
    let entries = entries(ax);
    if entries.is_empty() || ax.legend == LegendPos::Hidden {
        return;
    }
    let (w, h) = size(&entries);
    let (x, y) = place(ax, f, ax.legend, (w, h));
    let frame = Paint {
        fill: Some((Color::WHITE, 0.88)),
        stroke: Some((Color::rgb(0xcc, 0xcc, 0xcc), 0.8, 1.0)),
        dash: None,
    };
    svg.rect(x, y, w, h, &frame);
    for (k, (label, swatch)) in entries.iter().enumerate() {
        let yc = y + PAD + ROW * (k as f64 + 0.5) - 2.0;
        let (x0, xm) = (x + PAD, x + PAD + 0.5 * SWATCH);
        match swatch {
            Swatch::Line(color, style) => {
                let (width, size, alpha) = style.sanitized();
                let mut p = Paint::stroke(*color, width, alpha);
                p.dash = style.dash.pattern(width);
                svg.line(x0, yc, x0 + SWATCH, yc, &p);
                if let Some(m) = style.marker {
                    glyph::marker(svg, m, xm, yc, size, *color, alpha);
                }
            }
            Swatch::Marker(color, style) => {
                let (_, size, alpha) = style.sanitized();
                glyph::marker(
                    svg,
                    style.marker.unwrap_or_default(),
                    xm,
                    yc,
                    size.clamp(4.0, 10.0),
                    *color,
                    alpha,
                );
            }
            Swatch::Patch(color, alpha) => {
                svg.rect(xm - 7.0, yc - 5.0, 14.0, 10.0, &Paint::fill(*color, *alpha));
            }
            Swatch::FixedPoint(kind) => glyph::fixed_point(svg, *kind, xm, yc),
        }
        svg.text(
            x0 + SWATCH + GAP,
            yc + 0.36 * FONT,
            label,
            FONT,
            Anchor::Start,
            0.0,
        );
    }
}
