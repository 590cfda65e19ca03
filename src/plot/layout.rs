//! Panel geometry: data limits, the plot rectangle, scales and ticks, and the margins each
//! panel needs around its plot area for tick labels, axis labels, title, colour bar and an
//! outside legend.
//!
//! ```text
//! ┌ cell ───────────────────────────────────────────┐
//! │ PAD                 title                        │
//! │ ylabel ticklabels ┌ plot area ┐ colour bar/legend │
//! │                   └───────────┘                  │
//! │                   ticklabels, xlabel         PAD │
//! └──────────────────────────────────────────────────┘
//! ```

use super::axes::{Axes, valid_range};
use super::color::Colormap;
use super::item::{Bounds, Item};
use super::legend;
use super::metrics::text_width;
use super::scale::{Scale, auto_limits, finite_range};
use super::style::LegendPos;
use super::ticks::{linear_ticks, log_ticks};

pub(crate) const TICK_FONT: f64 = 11.0;
pub(crate) const LABEL_FONT: f64 = 12.5;
pub(crate) const TITLE_FONT: f64 = 13.5;
pub(crate) const SUPTITLE_FONT: f64 = 16.0;
pub(crate) const TICK_LEN: f64 = 4.5;
/// Gap between a tick and its label.
pub(crate) const TICK_GAP: f64 = 3.5;
/// Space around each cell's content.
pub(crate) const PAD: f64 = 10.0;
/// Colour bar: gap from the plot area, and bar width.
pub(crate) const CBAR_GAP: f64 = 14.0;
pub(crate) const CBAR_W: f64 = 12.0;

/// Tick positions (data units), their labels, and unlabelled minor ticks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ticks {
    pub pos: Vec<f64>,
    pub labels: Vec<String>,
    pub minor: Vec<f64>,
}

/// A panel's plot rectangle in pixels, its scales and its ticks.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub sx: Scale,
    pub sy: Scale,
    pub xt: Ticks,
    pub yt: Ticks,
}

/// Space needed around a panel's plot area.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Margins {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

/// The colour range and map of the panel's first heatmap.
pub(crate) fn heat_range(ax: &Axes) -> Option<(f64, f64, Colormap)> {
    let h = ax.items.iter().find_map(|i| match i {
        Item::Heatmap(h) => Some(h),
        _ => None,
    })?;
    let (lo, hi) = ax
        .clim
        .or_else(|| finite_range(h.values.iter().copied(), false))
        .unwrap_or((0.0, 1.0));
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    Some((lo, hi, h.cmap))
}

/// The x and y limits: explicit ones, else padded data bounds.
pub(crate) fn limits(ax: &Axes) -> ((f64, f64), (f64, f64)) {
    let mut b = Bounds::default();
    for item in &ax.items {
        item.bounds(&mut b, ax.log_y);
    }
    let x = ax
        .xlim
        .unwrap_or_else(|| auto_limits(b.x, 0.05, false, &b.sticky_x));
    let ylim = ax.ylim.and_then(|(lo, hi)| valid_range(lo, hi, ax.log_y));
    let y = ylim.unwrap_or_else(|| auto_limits(b.y, 0.05, ax.log_y, &b.sticky_y));
    (x, y)
}

/// Scales and ticks for a plot area `[left, top, right, bottom]` (pixels).
pub(crate) fn frame(ax: &Axes, lim: ((f64, f64), (f64, f64)), rect: [f64; 4]) -> Frame {
    let [mut left, mut top, right, bottom] = rect;
    let mut right = right.max(left + 1.0);
    let mut bottom = bottom.max(top + 1.0);
    let ((x0, x1), (y0, y1)) = lim;
    if ax.aspect_equal && !ax.log_y {
        // Shrink the plot area (centred in the space it had) so that one unit takes as many
        // pixels along x as along y; the limits stay as they are.
        let (w, h) = (right - left, bottom - top);
        let k = (w / (x1 - x0)).min(h / (y1 - y0));
        let (w2, h2) = (k * (x1 - x0), k * (y1 - y0));
        if w2.is_finite() && h2.is_finite() && w2 >= 1.0 && h2 >= 1.0 {
            (left, right) = (left + 0.5 * (w - w2), right - 0.5 * (w - w2));
            (top, bottom) = (top + 0.5 * (h - h2), bottom - 0.5 * (h - h2));
        }
    }
    let (w, h) = (right - left, bottom - top);
    let sx = Scale::linear(x0, x1, left, right);
    let (p0, p1) = if ax.invert_y {
        (top, bottom)
    } else {
        (bottom, top)
    };
    let sy = if ax.log_y {
        Scale::log(y0, y1, p0, p1)
    } else {
        Scale::linear(y0, y1, p0, p1)
    };
    let yt = match &ax.yticks {
        Some(t) => custom(t, (y0, y1)),
        None if ax.log_y => {
            let (pos, labels, minor) = log_ticks(y0, y1, (h / 40.0).clamp(2.0, 12.0) as usize);
            Ticks { pos, labels, minor }
        }
        None => auto(y0, y1, (h / 45.0).clamp(2.0, 10.0) as usize, |_, _| true),
    };
    let xt = match &ax.xticks {
        Some(t) => custom(t, (x0, x1)),
        None => {
            let fits = |t: &[f64], l: &[String]| {
                let px: Vec<f64> = t.iter().filter_map(|&v| sx.map(v)).collect();
                let wd: Vec<f64> = l.iter().map(|s| text_width(s, TICK_FONT)).collect();
                (1..px.len().min(wd.len()))
                    .all(|k| px[k] - px[k - 1] >= 0.5 * (wd[k] + wd[k - 1]) + 12.0)
            };
            auto(x0, x1, (w / 85.0).clamp(2.0, 10.0) as usize, fits)
        }
    };
    Frame {
        left,
        top,
        right,
        bottom,
        sx,
        sy,
        xt,
        yt,
    }
}

/// Linear ticks with the largest target count ≤ `target` whose labels `fit`.
fn auto(lo: f64, hi: f64, target: usize, fits: impl Fn(&[f64], &[String]) -> bool) -> Ticks {
    let mut n = target.max(2);
    loop {
        let (pos, labels) = linear_ticks(lo, hi, n);
        if n <= 2 || fits(&pos, &labels) {
            return Ticks {
                pos,
                labels,
                minor: Vec::new(),
            };
        }
        n -= 1;
    }
}

/// User-given ticks that lie inside the limits.
fn custom(t: &[(f64, String)], (lo, hi): (f64, f64)) -> Ticks {
    let tol = 1e-9 * (hi - lo).abs();
    let inside: Vec<&(f64, String)> = t
        .iter()
        .filter(|(p, _)| *p >= lo - tol && *p <= hi + tol)
        .collect();
    Ticks {
        pos: inside.iter().map(|(p, _)| *p).collect(),
        labels: inside.iter().map(|(_, l)| l.clone()).collect(),
        minor: Vec::new(),
    }
}

/// The widest label's width at the tick font size.
pub(crate) fn widest(labels: &[String]) -> f64 {
    labels
        .iter()
        .map(|l| text_width(l, TICK_FONT))
        .fold(0.0, f64::max)
}

/// Width to the right of the plot area taken by the colour bar (ticks and label included).
pub(crate) fn colorbar_width(ax: &Axes, height: f64) -> f64 {
    let (Some(label), Some((lo, hi, _))) = (&ax.colorbar, heat_range(ax)) else {
        return 0.0;
    };
    let (_, labels) = linear_ticks(lo, hi, (height / 45.0).clamp(2.0, 8.0) as usize);
    let label_w = if label.is_empty() {
        0.0
    } else {
        8.0 + LABEL_FONT
    };
    CBAR_GAP + CBAR_W + TICK_LEN + TICK_GAP + widest(&labels) + label_w
}

/// The margins panel `ax` needs inside a cell `[x0, y0, x1, y1]`.
pub(crate) fn margins(ax: &Axes, cell: [f64; 4]) -> Margins {
    let [x0, y0, x1, y1] = cell;
    let top = PAD
        + if ax.title.is_some() {
            TITLE_FONT * 1.6
        } else {
            0.5 * TICK_FONT
        };
    let xlabel = if ax.xlabel.is_some() {
        5.0 + LABEL_FONT
    } else {
        0.0
    };
    let bottom = PAD + TICK_LEN + TICK_GAP + TICK_FONT + xlabel;
    let ylabel = if ax.ylabel.is_some() {
        LABEL_FONT + 8.0
    } else {
        0.0
    };
    let h = (y1 - y0 - top - bottom).max(1.0);
    let mut right = PAD + colorbar_width(ax, h);
    if ax.legend == LegendPos::Outside {
        let (lw, _) = legend::size(&legend::entries(ax));
        if lw > 0.0 {
            right += lw + 10.0;
        }
    }
    let lim = limits(ax);
    // Two passes: the y tick labels set the left margin, which sets the width and so the
    // x ticks (and, with equal aspect, the limits).
    let mut left = PAD + ylabel + 30.0;
    let mut f = frame(ax, lim, [x0 + left, y0 + top, x1 - right, y1 - bottom]);
    for _ in 0..2 {
        left = PAD + ylabel + widest(&f.yt.labels) + TICK_GAP + TICK_LEN;
        f = frame(ax, lim, [x0 + left, y0 + top, x1 - right, y1 - bottom]);
    }
    // The last x tick label is centred on its tick and may reach past the plot area.
    if let (Some(&p), Some(l)) = (f.xt.pos.last(), f.xt.labels.last()) {
        let over =
            f.sx.map(p)
                .map_or(0.0, |px| px + 0.5 * text_width(l, TICK_FONT) - f.right);
        right = right.max(over + 4.0);
    }
    Margins {
        left,
        right,
        top,
        bottom,
    }
}
