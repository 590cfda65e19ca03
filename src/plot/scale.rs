//! Data → pixel mapping and automatic axis limits.
//!
//! ```text
//! linear:  p = p0 + (v − lo) / (hi − lo) · (p1 − p0)
//! log:     p = p0 + (log₁₀ v − log₁₀ lo) / (log₁₀ hi − log₁₀ lo) · (p1 − p0)
//! ```
//! For a y axis `p0` is the bottom pixel row and `p1` the top one, so larger values go up.

/// Data beyond ±this magnitude are clamped when limits are computed, so that ranges stay
/// finite.
pub(crate) const HUGE: f64 = 1e300;

/// A map from data values on one axis to pixel coordinates.
///
/// # Example
/// ```
/// use neurodyn::plot::Scale;
/// // x ∈ [0, 10] onto pixels 50..450
/// let sx = Scale::linear(0.0, 10.0, 50.0, 450.0);
/// assert_eq!(sx.map(2.5), Some(150.0));
/// // y ∈ [1, 1000] on a log axis, bottom at pixel 300, top at 100
/// let sy = Scale::log(1.0, 1000.0, 300.0, 100.0);
/// assert_eq!(sy.map(10.0).map(f64::round), Some(233.0));
/// assert_eq!(sy.map(-1.0), None); // not representable on a log axis
/// assert_eq!(sx.map(f64::NAN), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    lo: f64,
    hi: f64,
    p0: f64,
    p1: f64,
    log: bool,
}

impl Scale {
    /// A linear map sending `lo → p0` and `hi → p1`. A degenerate range (`hi == lo`, or
    /// non-finite bounds) maps everything to the middle of the pixel span.
    pub fn linear(lo: f64, hi: f64, p0: f64, p1: f64) -> Self {
        Scale {
            lo,
            hi,
            p0,
            p1,
            log: false,
        }
    }

    /// A logarithmic map sending `lo → p0` and `hi → p1` (both bounds must be positive, else
    /// everything maps to the middle of the pixel span).
    pub fn log(lo: f64, hi: f64, p0: f64, p1: f64) -> Self {
        Scale {
            lo,
            hi,
            p0,
            p1,
            log: true,
        }
    }

    /// The data range `(lo, hi)`.
    pub fn domain(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// The pixel range `(p0, p1)`.
    pub fn range(&self) -> (f64, f64) {
        (self.p0, self.p1)
    }

    /// Whether the map is logarithmic.
    pub fn is_log(&self) -> bool {
        self.log
    }

    /// The pixel coordinate of `v`, or `None` if `v` is NaN, infinite, non-positive on a log
    /// axis, or so far out that its pixel coordinate overflows.
    pub fn map(&self, v: f64) -> Option<f64> {
        let (v, lo, hi) = if self.log {
            if !(v > 0.0 && self.lo > 0.0 && self.hi > 0.0) {
                return None;
            }
            (v.log10(), self.lo.log10(), self.hi.log10())
        } else {
            (v, self.lo, self.hi)
        };
        if !v.is_finite() {
            return None;
        }
        let span = hi - lo;
        if !(span.is_finite() && span != 0.0) {
            return Some(0.5 * (self.p0 + self.p1));
        }
        let mut t = (v - lo) / span;
        if !t.is_finite() {
            t = v / span - lo / span;
        }
        let p = self.p0 + t * (self.p1 - self.p0);
        p.is_finite().then_some(p)
    }
}

/// The smallest and largest finite values (positive ones only when `log`), clamped to
/// `±1e300`; `None` if there are none.
pub(crate) fn finite_range(values: impl IntoIterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let mut range: Option<(f64, f64)> = None;
    for v in values {
        if !v.is_finite() || (log && v <= 0.0) {
            continue;
        }
        let v = v.clamp(-HUGE, HUGE);
        range = Some(match range {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    range
}

/// Axis limits for data spanning `[lo, hi]`: widened by `pad` (a fraction of the range, in
/// log space for a log axis) on each side, without crossing a `sticky` value that the data
/// touch (a bar chart's zero baseline, a heatmap's edges). A zero range is widened to
/// `v ± 10 %` (`±1` around zero); no data at all gives `[0, 1]` (`[1, 10]` on a log axis).
pub(crate) fn auto_limits(
    range: Option<(f64, f64)>,
    pad: f64,
    log: bool,
    sticky: &[f64],
) -> (f64, f64) {
    let Some((lo, hi)) = range else {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    };
    if log {
        let (a, b) = auto_limits(Some((lo.log10(), hi.log10())), pad, false, &[]);
        let (a, b) = (10f64.powf(a), 10f64.powf(b));
        let stick = |x: f64, s: &f64| *s > 0.0 && *s <= lo && *s > x;
        let a = sticky
            .iter()
            .filter(|s| stick(a, s))
            .fold(a, |x, &s| x.max(s));
        return (a.max(f64::MIN_POSITIVE), b.min(f64::MAX));
    }
    if hi - lo <= f64::EPSILON * 4.0 * lo.abs().max(hi.abs()) {
        let mid = 0.5 * (lo + hi);
        let d = if mid.abs() > 1e-300 {
            0.1 * mid.abs()
        } else {
            1.0
        };
        return (mid - d, mid + d);
    }
    let d = pad * (hi - lo);
    let (mut a, mut b) = (lo - d, hi + d);
    for &s in sticky.iter().filter(|s| s.is_finite()) {
        if s <= lo && s > a {
            a = s;
        }
        if s >= hi && s < b {
            b = s;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_handle_degenerate_data() {
        assert_eq!(auto_limits(None, 0.05, false, &[]), (0.0, 1.0));
        assert_eq!(auto_limits(Some((0.0, 0.0)), 0.05, false, &[]), (-1.0, 1.0));
        let (a, b) = auto_limits(Some((5.0, 5.0)), 0.05, false, &[]);
        assert!(a < 5.0 && b > 5.0);
        let (a, b) = auto_limits(Some((-HUGE, HUGE)), 0.05, false, &[]);
        assert!(a.is_finite() && b.is_finite() && a < b);
        assert_eq!(
            auto_limits(Some((0.0, 10.0)), 0.05, false, &[0.0]),
            (0.0, 10.5)
        );
        let (a, b) = auto_limits(Some((2.0, 2.0)), 0.05, true, &[]);
        assert!(a < 2.0 && b > 2.0);
    }

    #[test]
    fn finite_range_skips_bad_values() {
        let r = finite_range([f64::NAN, 1.0, f64::INFINITY, -2.0], false);
        assert_eq!(r, Some((-2.0, 1.0)));
        assert_eq!(finite_range([-1.0, 0.0], true), None);
    }
}
