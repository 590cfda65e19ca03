//! SVG text building: escaping, compact numbers, paint attributes, and clipping of polylines
//! to a rectangle (so that far-away data never turn into huge coordinates).

use super::color::Color;
use super::metrics::FAMILY;
use std::fmt::Write;

/// Fill and stroke of one SVG element.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Paint {
    /// Fill colour and opacity; `None` for `fill="none"`.
    pub fill: Option<(Color, f64)>,
    /// Stroke colour, width and opacity; `None` for no stroke.
    pub stroke: Option<(Color, f64, f64)>,
    /// Dash and gap lengths in px; `None` for solid.
    pub dash: Option<(f64, f64)>,
}

impl Paint {
    pub fn fill(c: Color, alpha: f64) -> Self {
        Paint {
            fill: Some((c, alpha)),
            ..Paint::default()
        }
    }

    pub fn stroke(c: Color, width: f64, alpha: f64) -> Self {
        Paint {
            stroke: Some((c, width, alpha)),
            ..Paint::default()
        }
    }
}

/// Horizontal text alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// An SVG document under construction.
pub(crate) struct Svg {
    pub out: String,
}

impl Svg {
    /// The root element and a white background.
    pub fn new(width: u32, height: u32) -> Self {
        let mut out = String::with_capacity(1 << 16);
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"'{FAMILY}', Helvetica, Arial, \
             sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        );
        Svg { out }
    }

    /// Closes the root element.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    /// Appends a number with at most two decimals (non-finite numbers as 0).
    pub fn num(&mut self, v: f64) {
        push_num(&mut self.out, v);
    }

    /// Appends ` fill=… stroke=…` attributes.
    pub fn paint(&mut self, p: &Paint) {
        match p.fill {
            Some((c, a)) => {
                let _ = write!(self.out, " fill=\"{}\"", c.to_hex());
                if a < 1.0 {
                    self.out.push_str(" fill-opacity=\"");
                    self.num(a.clamp(0.0, 1.0));
                    self.out.push('"');
                }
            }
            None => self.out.push_str(" fill=\"none\""),
        }
        if let Some((c, w, a)) = p.stroke {
            let _ = write!(self.out, " stroke=\"{}\" stroke-width=\"", c.to_hex());
            self.num(w);
            self.out.push('"');
            if a < 1.0 {
                self.out.push_str(" stroke-opacity=\"");
                self.num(a.clamp(0.0, 1.0));
                self.out.push('"');
            }
            self.out
                .push_str(" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
        }
        if let Some((on, off)) = p.dash {
            self.out.push_str(" stroke-dasharray=\"");
            self.num(on);
            self.out.push(' ');
            self.num(off);
            self.out.push('"');
        }
    }

    /// A straight line.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, p: &Paint) {
        self.path(&[vec![(x1, y1), (x2, y2)]], false, p);
    }

    /// A rectangle from its top-left corner and size (negative sizes are flipped).
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, p: &Paint) {
        let (x, w) = if w < 0.0 { (x + w, -w) } else { (x, w) };
        let (y, h) = if h < 0.0 { (y + h, -h) } else { (y, h) };
        self.out.push_str("<rect x=\"");
        self.num(x);
        self.out.push_str("\" y=\"");
        self.num(y);
        self.out.push_str("\" width=\"");
        self.num(w);
        self.out.push_str("\" height=\"");
        self.num(h);
        self.out.push('"');
        self.paint(p);
        self.out.push_str("/>\n");
    }

    /// A circle of radius `r` centred on `(x, y)`.
    pub fn circle(&mut self, x: f64, y: f64, r: f64, p: &Paint) {
        self.out.push_str("<circle cx=\"");
        self.num(x);
        self.out.push_str("\" cy=\"");
        self.num(y);
        self.out.push_str("\" r=\"");
        self.num(r);
        self.out.push('"');
        self.paint(p);
        self.out.push_str("/>\n");
    }

    /// One `<path>` with a subpath per polyline (`close`: each closed with `Z`). Nothing is
    /// written when there are no points.
    pub fn path(&mut self, lines: &[Vec<(f64, f64)>], close: bool, p: &Paint) {
        if lines.iter().all(|l| l.is_empty()) {
            return;
        }
        self.out.push_str("<path d=\"");
        for line in lines {
            for (k, &(x, y)) in line.iter().enumerate() {
                self.out.push(if k == 0 { 'M' } else { 'L' });
                self.num(x);
                self.out.push(' ');
                self.num(y);
            }
            if close && !line.is_empty() {
                self.out.push('Z');
            }
        }
        self.out.push('"');
        self.paint(p);
        self.out.push_str("/>\n");
    }

    /// Text (in the ink colour #222) with its baseline at `y`, rotated by `rotate` degrees about `(x, y)`.
    pub fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, rotate: f64) {
        if s.is_empty() {
            return;
        }
        self.out.push_str("<text x=\"");
        self.num(x);
        self.out.push_str("\" y=\"");
        self.num(y);
        self.out.push_str("\" font-size=\"");
        self.num(size);
        self.out.push_str("\" fill=\"#222222\"");
        match anchor {
            Anchor::Start => {}
            Anchor::Middle => self.out.push_str(" text-anchor=\"middle\""),
            Anchor::End => self.out.push_str(" text-anchor=\"end\""),
        }
        if rotate != 0.0 {
            self.out.push_str(" transform=\"rotate(");
            self.num(rotate);
            self.out.push(' ');
            self.num(x);
            self.out.push(' ');
            self.num(y);
            self.out.push_str(")\"");
        }
        self.out.push('>');
        escape_into(&mut self.out, s);
        self.out.push_str("</text>\n");
    }
}

/// Appends `v` with at most two decimals, trailing zeros trimmed; non-finite values as 0.
pub(crate) fn push_num(out: &mut String, v: f64) {
    if !v.is_finite() || v.abs() < 0.005 {
        out.push('0');
        return;
    }
    let start = out.len();
    let _ = write!(out, "{v:.2}");
    if out[start..].contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
}

/// Appends `s` escaped for XML text and attributes; control characters that XML 1.0 forbids
/// become spaces.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Splits a polyline (`None` marks a gap) into the runs that lie inside the rectangle
/// `[x0, x1] × [y0, y1]`, cutting segments at its border (Liang–Barsky).
pub(crate) fn clip_polyline(points: &[Option<(f64, f64)>], rect: [f64; 4]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    let inside =
        |p: (f64, f64)| p.0 >= rect[0] && p.0 <= rect[1] && p.1 >= rect[2] && p.1 <= rect[3];
    if let [Some(p)] = points {
        if inside(*p) {
            runs.push(vec![*p]);
        }
        return runs;
    }
    for w in points.windows(2) {
        let (Some(p), Some(q)) = (w[0], w[1]) else {
            open = false;
            continue;
        };
        match clip_segment(p, q, rect) {
            Some((a, b, a_cut, b_cut)) => {
                if !open || a_cut {
                    runs.push(vec![a]);
                }
                if let Some(run) = runs.last_mut() {
                    run.push(b);
                }
                open = !b_cut;
            }
            None => open = false,
        }
    }
    runs
}

/// Drops vertices that cannot show: consecutive points within the same half-pixel column are
/// reduced to the first, lowest, highest and last of them (in their original order), so a
/// curve of 10⁵ samples across 800 px keeps at most about 6400 vertices and every extreme.
pub(crate) fn thin(run: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if run.len() < 64 {
        return run;
    }
    let col = |p: (f64, f64)| (p.0 * 2.0).floor();
    let mut out = Vec::with_capacity(run.len().min(4096));
    let mut i = 0;
    while i < run.len() {
        let c = col(run[i]);
        let j = i + run[i..].iter().take_while(|&&p| col(p) == c).count().max(1);
        let group = &run[i..j];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let by_y = |a: &(usize, &(f64, f64)), b: &(usize, &(f64, f64))| a.1.1.total_cmp(&b.1.1);
            let lo = group.iter().enumerate().min_by(by_y).map_or(0, |(k, _)| k);
            let hi = group.iter().enumerate().max_by(by_y).map_or(0, |(k, _)| k);
            let mut keep = [0, lo, hi, group.len() - 1];
            keep.sort_unstable();
            let mut last = usize::MAX;
            for k in keep {
                if k != last {
                    out.push(group[k]);
                    last = k;
                }
            }
        }
        i = j;
    }
    out
}

/// A clipped segment's ends, and whether each was cut.
type Clipped = ((f64, f64), (f64, f64), bool, bool);

/// The part of segment `p → q` inside `rect`, and whether each end was cut.
fn clip_segment(p: (f64, f64), q: (f64, f64), r: [f64; 4]) -> Option<Clipped> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p.0 - r[0]),
        (dx, r[1] - p.0),
        (-dy, p.1 - r[2]),
        (dy, r[3] - p.1),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return None;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0.is_nan() || t1.is_nan() || t0 > t1 {
        return None;
    }
    let at = |t: f64| (p.0 + t * dx, p.1 + t * dy);
    Some((at(t0), at(t1), t0 > 0.0, t1 < 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        let mut s = String::new();
        for v in [1.0, 0.5, 1.256, -0.001, f64::NAN, 100.10] {
            push_num(&mut s, v);
            s.push(',');
        }
        assert_eq!(s, "1,0.5,1.26,0,0,100.1,");
    }

    #[test]
    fn text_is_escaped() {
        let mut s = String::new();
        escape_into(&mut s, "a<b & \"c\"\u{1}");
        assert_eq!(s, "a&lt;b &amp; &quot;c&quot; ");
    }

    #[test]
    fn thinning_keeps_extremes_and_order() {
        let run: Vec<(f64, f64)> = (0..10_000)
            .map(|k| (k as f64 * 0.01, (k as f64 * 0.05).sin() * 50.0))
            .collect();
        let thin = thin(run.clone());
        assert!(thin.len() <= 4 * 200 + 4, "{} vertices", thin.len());
        assert_eq!(thin.first(), run.first());
        assert_eq!(thin.last(), run.last());
        let max = |v: &[(f64, f64)]| v.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert_eq!(max(&thin), max(&run));
        assert!(thin.windows(2).all(|w| w[0].0 <= w[1].0));
        let short = vec![(0.0, 0.0), (0.1, 1.0)];
        assert_eq!(super::thin(short.clone()), short);
    }

    #[test]
    fn polylines_are_clipped_and_split() {
        let r = [0.0, 10.0, 0.0, 10.0];
        let pts = [
            Some((-5.0, 5.0)),
            Some((5.0, 5.0)),
            None,
            Some((5.0, 6.0)),
            Some((5.0, 1e300)),
        ];
        let runs = clip_polyline(&pts, r);
        assert_eq!(
            runs,
            vec![vec![(0.0, 5.0), (5.0, 5.0)], vec![(5.0, 6.0), (5.0, 10.0)]]
        );
        assert!(clip_polyline(&[Some((20.0, 20.0)), Some((30.0, 30.0))], r).is_empty());
    }
}
