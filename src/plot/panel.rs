//! Drawing one panel: grid, clipped items, spines, ticks and tick labels, axis labels, title,
//! colour bar and legend.

use super::axes::Axes;
use super::color::Color;
use super::item::Item;
use super::layout::{
    CBAR_GAP, CBAR_W, Frame, LABEL_FONT, TICK_FONT, TICK_GAP, TICK_LEN, TITLE_FONT, heat_range,
    widest,
};
use super::legend;
use super::svg::{Anchor, Paint, Svg};
use super::ticks::linear_ticks;
use super::{draw, glyph};

/// Spines and ticks.
const SPINE: Color = Color::rgb(0x33, 0x33, 0x33);
const GRID: Color = Color::rgb(0xe6, 0xe6, 0xe6);

/// Draws panel `ax` into its frame; `id` names its clip path (unique in the document).
pub(crate) fn render(svg: &mut Svg, ax: &Axes, f: &Frame, id: usize) {
    let (w, h) = (f.right - f.left, f.bottom - f.top);
    if ax.grid {
        let p = Paint::stroke(GRID, 0.8, 1.0);
        for px in f.xt.pos.iter().filter_map(|&v| f.sx.map(v)) {
            svg.line(px, f.top, px, f.bottom, &p);
        }
        for py in f.yt.pos.iter().filter_map(|&v| f.sy.map(v)) {
            svg.line(f.left, py, f.right, py, &p);
        }
    }
    svg.out.push_str(&format!("<clipPath id=\"plot{id}\">"));
    svg.rect(f.left, f.top, w, h, &Paint::fill(Color::WHITE, 1.0));
    svg.out
        .push_str(&format!("</clipPath>\n<g clip-path=\"url(#plot{id})\">\n"));
    draw::items(svg, ax, f);
    svg.out.push_str("</g>\n");
    draw::notes(svg, ax, f);
    spines_and_ticks(svg, ax, f);
    labels(svg, ax, f);
    colorbar(svg, ax, f);
    legend::draw(svg, ax, f);
}

fn spines_and_ticks(svg: &mut Svg, ax: &Axes, f: &Frame) {
    let spine = Paint::stroke(SPINE, 0.9, 1.0);
    let boxed = ax.aspect_equal || ax.items.iter().any(|i| matches!(i, Item::Heatmap(_)));
    let mut sides = vec![vec![
        (f.left, f.top),
        (f.left, f.bottom),
        (f.right, f.bottom),
    ]];
    if boxed {
        sides.push(vec![(f.left, f.top), (f.right, f.top), (f.right, f.bottom)]);
    }
    svg.path(&sides, false, &spine);
    let eps = 0.5;
    let mut ticks = Vec::new();
    for (k, px) in f.xt.pos.iter().map(|&v| f.sx.map(v)).enumerate() {
        let Some(px) = px.filter(|&p| p >= f.left - eps && p <= f.right + eps) else {
            continue;
        };
        ticks.push(vec![(px, f.bottom), (px, f.bottom + TICK_LEN)]);
        let y = f.bottom + TICK_LEN + TICK_GAP + 0.76 * TICK_FONT;
        svg.text(px, y, &f.xt.labels[k], TICK_FONT, Anchor::Middle, 0.0);
    }
    for (k, py) in f.yt.pos.iter().map(|&v| f.sy.map(v)).enumerate() {
        let Some(py) = py.filter(|&p| p >= f.top - eps && p <= f.bottom + eps) else {
            continue;
        };
        ticks.push(vec![(f.left - TICK_LEN, py), (f.left, py)]);
        let x = f.left - TICK_LEN - TICK_GAP;
        svg.text(
            x,
            py + 0.36 * TICK_FONT,
            &f.yt.labels[k],
            TICK_FONT,
            Anchor::End,
            0.0,
        );
    }
    for py in f.yt.minor.iter().filter_map(|&v| f.sy.map(v)) {
        if py >= f.top - eps && py <= f.bottom + eps {
            ticks.push(vec![(f.left - 0.6 * TICK_LEN, py), (f.left, py)]);
        }
    }
    svg.path(&ticks, false, &Paint::stroke(SPINE, 0.8, 1.0));
}

fn labels(svg: &mut Svg, ax: &Axes, f: &Frame) {
    let cx = 0.5 * (f.left + f.right);
    if let Some(t) = &ax.title {
        svg.text(
            cx,
            f.top - 0.6 * TITLE_FONT,
            t,
            TITLE_FONT,
            Anchor::Middle,
            0.0,
        );
    }
    if let Some(l) = &ax.xlabel {
        let y = f.bottom + TICK_LEN + TICK_GAP + TICK_FONT + 5.0 + 0.76 * LABEL_FONT;
        svg.text(cx, y, l, LABEL_FONT, Anchor::Middle, 0.0);
    }
    if let Some(l) = &ax.ylabel {
        let x = f.left - TICK_LEN - TICK_GAP - widest(&f.yt.labels) - 8.0 - 0.24 * LABEL_FONT;
        svg.text(
            x,
            0.5 * (f.top + f.bottom),
            l,
            LABEL_FONT,
            Anchor::Middle,
            -90.0,
        );
    }
}

fn colorbar(svg: &mut Svg, ax: &Axes, f: &Frame) {
    let (Some(label), Some((lo, hi, cmap))) = (&ax.colorbar, heat_range(ax)) else {
        return;
    };
    let x = f.right + CBAR_GAP;
    glyph::gradient(svg, cmap, x, f.top, CBAR_W, f.bottom);
    svg.rect(
        x,
        f.top,
        CBAR_W,
        f.bottom - f.top,
        &Paint::stroke(SPINE, 0.8, 1.0),
    );
    let (pos, labels) = linear_ticks(lo, hi, ((f.bottom - f.top) / 45.0).clamp(2.0, 8.0) as usize);
    let mut ticks = Vec::new();
    let x1 = x + CBAR_W;
    for (v, l) in pos.iter().zip(&labels) {
        let py = f.bottom - (v - lo) / (hi - lo) * (f.bottom - f.top);
        if py.is_finite() {
            ticks.push(vec![(x1, py), (x1 + TICK_LEN, py)]);
            svg.text(
                x1 + TICK_LEN + TICK_GAP,
                py + 0.36 * TICK_FONT,
                l,
                TICK_FONT,
                Anchor::Start,
                0.0,
            );
        }
    }
    svg.path(&ticks, false, &Paint::stroke(SPINE, 0.8, 1.0));
    let lx = x1 + TICK_LEN + TICK_GAP + widest(&labels) + 8.0 + 0.76 * LABEL_FONT;
    svg.text(
        lx,
        0.5 * (f.top + f.bottom),
        label,
        LABEL_FONT,
        Anchor::Middle,
        -90.0,
    );
}
