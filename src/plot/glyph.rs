//! Small fixed graphics: scatter markers, fixed-point symbols, and colour-bar gradients.

use super::color::{Color, Colormap};
use super::style::{FixedPointKind, Marker};
use super::svg::{Paint, Svg};

/// Ink for fixed points.
const INK: Color = Color::rgb(0x1a, 0x1a, 0x1a);

/// Colour bar pixels for a colormap: `n` horizontal bands from `bottom` to `top`.
pub(crate) fn gradient(svg: &mut Svg, cmap: Colormap, x: f64, top: f64, width: f64, bottom: f64) {
    const N: usize = 96;
    let h = (bottom - top) / N as f64;
    svg.out.push_str("<g shape-rendering=\"crispEdges\">\n");
    for k in 0..N {
        let t = (k as f64 + 0.5) / N as f64;
        svg.rect(
            x,
            bottom - (k + 1) as f64 * h,
            width,
            h + 0.6,
            &Paint::fill(cmap.at(t), 1.0),
        );
    }
    svg.out.push_str("</g>\n");
}

/// One marker of diameter `size` centred on `(x, y)`.
pub(crate) fn marker(
    svg: &mut Svg,
    m: Marker,
    x: f64,
    y: f64,
    size: f64,
    color: Color,
    alpha: f64,
) {
    let r = 0.5 * size;
    let solid = Paint {
        fill: Some((color, alpha)),
        stroke: Some((Color::WHITE, 0.5, alpha)),
        dash: None,
    };
    match m {
        Marker::Circle => svg.circle(x, y, r, &solid),
        Marker::OpenCircle => {
            let p = Paint {
                fill: Some((Color::WHITE, alpha)),
                stroke: Some((color, 1.3, alpha)),
                dash: None,
            };
            svg.circle(x, y, r, &p);
        }
        Marker::Square => svg.rect(x - 0.9 * r, y - 0.9 * r, 1.8 * r, 1.8 * r, &solid),
        Marker::Triangle => {
            let pts = vec![
                (x, y - 1.15 * r),
                (x + r, y + 0.6 * r),
                (x - r, y + 0.6 * r),
            ];
            svg.path(&[pts], true, &solid);
        }
        Marker::Diamond => {
            let pts = vec![
                (x, y - 1.2 * r),
                (x + 0.85 * r, y),
                (x, y + 1.2 * r),
                (x - 0.85 * r, y),
            ];
            svg.path(&[pts], true, &solid);
        }
        Marker::Cross | Marker::Plus => {
            let d = if m == Marker::Cross { 0.8 * r } else { r };
            let lines = if m == Marker::Cross {
                [
                    vec![(x - d, y - d), (x + d, y + d)],
                    vec![(x - d, y + d), (x + d, y - d)],
                ]
            } else {
                [vec![(x - d, y), (x + d, y)], vec![(x, y - d), (x, y + d)]]
            };
            svg.path(
                &lines,
                false,
                &Paint::stroke(color, (0.35 * r).max(1.2), alpha),
            );
        }
    }
}

/// A fixed point: stable filled, unstable open, saddle half-filled.
pub(crate) fn fixed_point(svg: &mut Svg, kind: FixedPointKind, x: f64, y: f64) {
    const R: f64 = 5.0;
    let outline = Paint::stroke(INK, 1.4, 1.0);
    let fill = if kind == FixedPointKind::Stable {
        INK
    } else {
        Color::WHITE
    };
    svg.circle(x, y, R, &Paint::fill(fill, 1.0));
    if kind == FixedPointKind::Saddle {
        // The left half disc: an arc from the top to the bottom through the left.
        svg.out.push_str("<path d=\"M");
        svg.num(x);
        svg.out.push(' ');
        svg.num(y - R);
        svg.out.push_str("A5 5 0 0 0 ");
        svg.num(x);
        svg.out.push(' ');
        svg.num(y + R);
        svg.out.push_str("Z\"");
        svg.paint(&Paint::fill(INK, 1.0));
        svg.out.push_str("/>\n");
    }
    svg.circle(x, y, R, &outline);
}
