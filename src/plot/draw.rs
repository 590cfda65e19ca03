//! Drawing an axes' items inside its plot area: lines, markers, arrows, rectangles, fills,
//! heatmap cells, fixed points and notes, mapped through the panel's scales.

use super::axes::Axes;
use super::color::Color;
use super::glyph::{fixed_point, marker};
use super::item::{Heatmap, Item};
use super::layout::{Frame, TICK_FONT, heat_range};
use super::style::Style;
use super::svg::{Anchor, Paint, Svg, clip_polyline, thin};

/// The plot area widened by a few pixels, `[x0, x1, y0, y1]`: geometry is cut to it so that
/// coordinates stay small; the SVG clip path trims the rest exactly.
fn window(f: &Frame) -> [f64; 4] {
    [f.left - 8.0, f.right + 8.0, f.top - 8.0, f.bottom + 8.0]
}

fn to_px(f: &Frame, &(x, y): &(f64, f64)) -> Option<(f64, f64)> {
    Some((f.sx.map(x)?, f.sy.map(y)?))
}

fn inside(w: [f64; 4], (x, y): (f64, f64)) -> bool {
    x >= w[0] && x <= w[1] && y >= w[2] && y <= w[3]
}

fn stroke(color: Color, style: &Style) -> Paint {
    let (width, _, alpha) = style.sanitized();
    let mut p = Paint::stroke(color, width, alpha);
    p.dash = style.dash.pattern(width);
    p
}

/// Draws the clipped items of `ax` (everything but notes) in layers: backgrounds, areas,
/// curves and markers in insertion order, fixed points.
pub(crate) fn items(svg: &mut Svg, ax: &Axes, f: &Frame) {
    let w = window(f);
    for layer in 0..4 {
        for item in &ax.items {
            let z = match item {
                Item::Span { .. } | Item::Heatmap(_) => 0,
                Item::Rects { .. } | Item::Fill { .. } => 1,
                Item::FixedPoints { .. } => 3,
                Item::Text { .. } => 4,
                _ => 2,
            };
            if z == layer {
                item_into(svg, ax, f, w, item);
            }
        }
    }
}

fn item_into(svg: &mut Svg, ax: &Axes, f: &Frame, w: [f64; 4], item: &Item) {
    match item {
        Item::Line { pts, color, style } => {
            let px: Vec<_> = pts.iter().map(|p| to_px(f, p)).collect();
            let runs: Vec<_> = clip_polyline(&px, w).into_iter().map(thin).collect();
            svg.path(&runs, false, &stroke(*color, style));
            if let Some(m) = style.marker {
                let (_, size, alpha) = style.sanitized();
                for p in px.into_iter().flatten().filter(|&p| inside(w, p)) {
                    marker(svg, m, p.0, p.1, size, *color, alpha);
                }
            }
        }
        Item::Scatter { pts, color, style } => {
            let (_, size, alpha) = style.sanitized();
            let m = style.marker.unwrap_or_default();
            for p in pts
                .iter()
                .filter_map(|p| to_px(f, p))
                .filter(|&p| inside(w, p))
            {
                marker(svg, m, p.0, p.1, size, *color, alpha);
            }
        }
        Item::Contour {
            lines,
            color,
            style,
        } => {
            let runs: Vec<_> = lines
                .iter()
                .flat_map(|l| clip_polyline(&l.iter().map(|p| to_px(f, p)).collect::<Vec<_>>(), w))
                .map(thin)
                .collect();
            svg.path(&runs, false, &stroke(*color, style));
        }
        Item::Quiver {
            pts,
            vecs,
            color,
            style,
        } => arrows(svg, f, w, pts, vecs, *color, style),
        Item::Heatmap(h) => {
            if let Some((lo, hi, _)) = heat_range(ax) {
                heatmap(svg, f, w, h, lo, hi);
            }
        }
        Item::Rects {
            rects,
            color,
            style,
        } => bars(svg, f, w, rects, *color, style),
        Item::Fill {
            xs,
            lo,
            hi,
            color,
            style,
        } => {
            let big = |(x, y): (f64, f64)| {
                (
                    x.clamp(w[0] - 1e4, w[1] + 1e4),
                    y.clamp(w[2] - 1e4, w[3] + 1e4),
                )
            };
            let mut polys = Vec::new();
            let mut upper: Vec<(f64, f64)> = Vec::new();
            let mut lower: Vec<(f64, f64)> = Vec::new();
            for k in 0..=xs.len() {
                let pair = (k < xs.len())
                    .then(|| Some((to_px(f, &(xs[k], hi[k]))?, to_px(f, &(xs[k], lo[k]))?)))
                    .flatten();
                if let Some((u, l)) = pair {
                    upper.push(big(u));
                    lower.push(big(l));
                } else if !upper.is_empty() {
                    upper.extend(lower.drain(..).rev());
                    polys.push(std::mem::take(&mut upper));
                }
            }
            svg.path(&polys, true, &Paint::fill(*color, style.sanitized().2));
        }
        Item::Span {
            x0,
            x1,
            color,
            alpha,
            ..
        } => {
            if let (Some(a), Some(b)) = (f.sx.map(*x0), f.sx.map(*x1)) {
                let (a, b) = (a.clamp(w[0], w[1]), b.clamp(w[0], w[1]));
                svg.rect(
                    a,
                    f.top,
                    b - a,
                    f.bottom - f.top,
                    &Paint::fill(*color, *alpha),
                );
            }
        }
        Item::HLine { y, color, style } => {
            if let Some(py) = f.sy.map(*y).filter(|&p| p >= w[2] && p <= w[3]) {
                svg.line(f.left, py, f.right, py, &stroke(*color, style));
            }
        }
        Item::VLine { x, color, style } => {
            if let Some(px) = f.sx.map(*x).filter(|&p| p >= w[0] && p <= w[1]) {
                svg.line(px, f.top, px, f.bottom, &stroke(*color, style));
            }
        }
        Item::FixedPoints { pts, kind, .. } => {
            for p in pts
                .iter()
                .filter_map(|p| to_px(f, p))
                .filter(|&p| inside(w, p))
            {
                fixed_point(svg, *kind, p.0, p.1);
            }
        }
        Item::Text { x, y, text } => {
            let rect = [f.left, f.right, f.top, f.bottom];
            if let Some(p) = to_px(f, &(*x, *y)).filter(|&p| inside(rect, p)) {
                svg.text(
                    p.0 + 3.0,
                    p.1 + 0.36 * TICK_FONT,
                    text,
                    TICK_FONT,
                    Anchor::Start,
                    0.0,
                );
            }
        }
    }
}

/// Bars: opaque ones separated by thin white edges; translucent ones (overlaid histograms)
/// without inner edges but with a step outline in full colour, so that each stays legible.
fn bars(svg: &mut Svg, f: &Frame, w: [f64; 4], rects: &[[f64; 4]], color: Color, style: &Style) {
    let alpha = style.sanitized().2;
    let opaque = alpha >= 0.99;
    let mut p = Paint::fill(color, alpha);
    if opaque {
        p.stroke = Some((Color::WHITE, 0.7, 1.0));
    }
    let floor = f.bottom + 8.0; // a log axis draws bars from below the plot area
    let cx = |x: f64| x.clamp(w[0], w[1]);
    let cy = |y: f64| y.clamp(w[2], w[3]);
    // Outline runs over adjacent bars: (base, points along the tops).
    let mut outline: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut last_x1 = f64::NAN;
    for r in rects {
        let (Some(x0), Some(x1), Some(y1)) = (f.sx.map(r[0]), f.sx.map(r[1]), f.sy.map(r[3]))
        else {
            continue;
        };
        let y0 = f.sy.map(r[2]).unwrap_or(floor);
        let (x0, x1, y0, y1) = (cx(x0), cx(x1), cy(y0), cy(y1));
        svg.rect(x0, y0, x1 - x0, y1 - y0, &p);
        if opaque {
            continue;
        }
        match outline.last_mut() {
            Some(run) if (x0 - last_x1).abs() < 0.01 => run.extend([(x0, y1), (x1, y1)]),
            _ => outline.push(vec![(x0, y0), (x0, y1), (x1, y1)]),
        }
        last_x1 = x1;
    }
    for run in &mut outline {
        if let (Some(&(_, base)), Some(&(x, _))) = (run.first(), run.last()) {
            run.push((x, base));
        }
    }
    svg.path(&outline, false, &Paint::stroke(color, 1.2, 1.0));
}

/// Draws the notes of `ax` (outside the clip path, so that text near an edge stays whole).
pub(crate) fn notes(svg: &mut Svg, ax: &Axes, f: &Frame) {
    for item in ax.items.iter().filter(|i| matches!(i, Item::Text { .. })) {
        item_into(svg, ax, f, window(f), item);
    }
}

/// Arrows centred on their points; see [`Axes::quiver`] for the length rule.
fn arrows(
    svg: &mut Svg,
    f: &Frame,
    w: [f64; 4],
    pts: &[(f64, f64)],
    vecs: &[(f64, f64)],
    color: Color,
    style: &Style,
) {
    let (kx, ky) = (unit_px(f, true), unit_px(f, false));
    let arrows: Vec<((f64, f64), (f64, f64))> = pts
        .iter()
        .zip(vecs)
        .filter_map(|(p, &(u, v))| Some((to_px(f, p)?, (u * kx, v * ky))))
        .filter(|&(p, d)| inside(w, p) && d.0.is_finite() && d.1.is_finite())
        .collect();
    let max = arrows
        .iter()
        .map(|(_, d)| d.0.hypot(d.1))
        .fold(0.0, f64::max);
    if arrows.is_empty() || !(max > 0.0 && max.is_finite()) {
        return;
    }
    let area = (f.right - f.left) * (f.bottom - f.top);
    let spacing = (area / arrows.len() as f64).sqrt();
    let full = 0.9 * spacing;
    let (width, _, alpha) = style.sanitized();
    let width = width.min(0.15 * spacing).max(0.5);
    let (mut shafts, mut heads) = (Vec::new(), Vec::new());
    for ((x, y), (dx, dy)) in arrows {
        let m = dx.hypot(dy);
        if m == 0.0 {
            continue;
        }
        let len = full * (m / max).sqrt().max(0.3);
        let (ux, uy) = (dx / m, dy / m);
        let (tx, ty) = (x + 0.5 * len * ux, y + 0.5 * len * uy);
        let head = (0.38 * len).clamp(2.5, 3.0 + 2.5 * width);
        let half = 0.5 * head;
        let (bx, by) = (tx - head * ux, ty - head * uy);
        shafts.push(vec![
            (x - 0.5 * len * ux, y - 0.5 * len * uy),
            (bx + 0.3 * head * ux, by + 0.3 * head * uy),
        ]);
        heads.push(vec![
            (tx, ty),
            (bx - half * uy, by + half * ux),
            (bx + half * uy, by - half * ux),
        ]);
    }
    svg.path(&shafts, false, &Paint::stroke(color, width, alpha));
    svg.path(&heads, true, &Paint::fill(color, alpha));
}

/// Pixels per data unit along x (`true`) or y; negative for y (pixels grow downwards).
fn unit_px(f: &Frame, x: bool) -> f64 {
    let s = if x { f.sx } else { f.sy };
    let ((lo, hi), (p0, p1)) = (s.domain(), s.range());
    let k = (p1 - p0) / (hi - lo);
    if k.is_finite() { k } else { 0.0 }
}

/// Heatmap cells, averaged down to about one cell per pixel for large matrices, and merged
/// along rows where neighbouring cells get the same colour.
fn heatmap(svg: &mut Svg, f: &Frame, w: [f64; 4], h: &Heatmap, lo: f64, hi: f64) {
    let [x0, x1, y0, y1] = h.extent;
    let (Some(px0), Some(px1), Some(py0), Some(py1)) =
        (f.sx.map(x0), f.sx.map(x1), f.sy.map(y0), f.sy.map(y1))
    else {
        return;
    };
    let fx = (h.cols as f64 / (px1 - px0).abs().max(1.0)).ceil().max(1.0) as usize;
    let fy = (h.rows as f64 / (py1 - py0).abs().max(1.0)).ceil().max(1.0) as usize;
    let (cols, rows) = (h.cols.div_ceil(fx), h.rows.div_ceil(fy));
    let colour = |r: usize, c: usize| -> Option<Color> {
        let (mut sum, mut n) = (0.0, 0usize);
        for i in r * fy..((r + 1) * fy).min(h.rows) {
            for j in c * fx..((c + 1) * fx).min(h.cols) {
                let v = h.values[i * h.cols + j];
                if v.is_finite() {
                    sum += v;
                    n += 1;
                }
            }
        }
        (n > 0).then(|| h.cmap.at((sum / n as f64 - lo) / (hi - lo)))
    };
    let xs = |c: usize| {
        (px0 + (px1 - px0) * (c * fx).min(h.cols) as f64 / h.cols as f64).clamp(w[0], w[1])
    };
    let ys = |r: usize| {
        (py0 + (py1 - py0) * (r * fy).min(h.rows) as f64 / h.rows as f64).clamp(w[2], w[3])
    };
    svg.out.push_str("<g shape-rendering=\"crispEdges\">\n");
    for r in 0..rows {
        let mut c = 0;
        while c < cols {
            let col = colour(r, c);
            let mut end = c + 1;
            while end < cols && colour(r, end) == col {
                end += 1;
            }
            if let Some(col) = col {
                svg.rect(
                    xs(c),
                    ys(r),
                    xs(end) - xs(c),
                    ys(r + 1) - ys(r),
                    &Paint::fill(col, 1.0),
                );
            }
            c = end;
        }
    }
    svg.out.push_str("</g>\n");
}
