//! Axis ticks: the 1-2-5 "nice numbers" algorithm, decade ticks for log axes, and compact
//! labels.
//!
//! ```text
//! step  = smallest of {1, 2, 5} × 10^k that is ≥ (hi − lo) / target
//! ticks = { j · step : j integer, lo ≤ j · step ≤ hi }
//! label = fixed point with exactly the decimals the step needs, or m×10ᵏ for |v| ≥ 10⁵ or
//!         |v| < 10⁻³; negative numbers use the minus sign U+2212.
//! ```

/// Ticks never number more than this, whatever the request.
const MAX_TICKS: usize = 50;

/// The smallest number of the form {1, 2, 5} × 10^k that is at least `raw`, together with its
/// decimal exponent `k`. Non-positive or non-finite input gives `(1.0, 0)`.
///
/// # Example
/// ```
/// use neurodyn::plot::ticks::nice_step;
/// assert_eq!(nice_step(0.13), (0.2, -1));
/// assert_eq!(nice_step(3.0), (5.0, 0));
/// assert_eq!(nice_step(700.0), (1000.0, 3));
/// ```
pub fn nice_step(raw: f64) -> (f64, i32) {
    if !(raw.is_finite() && raw > 0.0) {
        return (1.0, 0);
    }
    let mut k = raw.log10().floor() as i32;
    let base = pow10(k);
    let frac = raw / base;
    let m = if frac <= 1.0 + 1e-9 {
        1.0
    } else if frac <= 2.0 + 1e-9 {
        2.0
    } else if frac <= 5.0 + 1e-9 {
        5.0
    } else {
        k += 1;
        1.0
    };
    (m * pow10(k), k)
}

/// At most `target + 1` evenly spaced round numbers inside `[lo, hi]` (never more than 50),
/// with their labels: the smallest 1-2-5 step that gives no more ticks than that. Degenerate
/// or non-finite ranges give at most one tick.
///
/// # Example
/// ```
/// use neurodyn::plot::ticks::linear_ticks;
/// let (ticks, labels) = linear_ticks(0.0, 1.0, 5);
/// assert_eq!(ticks, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
/// assert_eq!(linear_ticks(-3.2, 3.2, 3).0, [-2.0, 0.0, 2.0]);
/// ```
pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, Vec<String>) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    if hi <= lo {
        return (vec![lo], vec![format_tick(lo, step_exponent(lo))]);
    }
    let target = target.clamp(1, MAX_TICKS - 1) as f64;
    let (mut step, mut k) = nice_step((hi - lo) / (target + 1.0));
    let span = |step: f64| {
        let tol = step * 1e-9;
        (((lo - tol) / step).ceil(), ((hi + tol) / step).floor())
    };
    for _ in 0..8 {
        let (first, last) = span(step);
        if last - first < target + 1.0 {
            break;
        }
        // The next step in the 1-2-5 sequence.
        let m = (step / pow10(k)).round();
        (step, k) = if m < 1.5 {
            (2.0 * pow10(k), k)
        } else if m < 3.5 {
            (5.0 * pow10(k), k)
        } else {
            (pow10(k + 1), k + 1)
        };
    }
    let tol = step * 1e-9;
    let (first, last) = span(step);
    if !(first.is_finite() && last.is_finite()) || last - first >= MAX_TICKS as f64 {
        return (vec![lo, hi], vec![format_tick(lo, k), format_tick(hi, k)]);
    }
    let count = (last - first) as usize + 1;
    let mut ticks: Vec<f64> = (0..count)
        .map(|i| {
            let j = first + i as f64;
            // j·m / 10^-k is exact for the round values a step produces; j·step is not (3·0.1).
            let v = if k < 0 {
                j * (step * pow10(-k)).round() / pow10(-k)
            } else {
                j * step
            };
            if v.abs() < tol { 0.0 } else { v }
        })
        .collect();
    // Near the limits of f64 precision neighbouring ticks can coincide.
    ticks.dedup();
    let labels = ticks.iter().map(|&v| format_tick(v, k)).collect();
    (ticks, labels)
}

/// Ticks for a logarithmic axis on `[lo, hi]` (both > 0): powers of ten, thinned to about
/// `target` (one every n decades), plus 2× and 5× when fewer than three powers of ten fall in
/// a range of less than three decades. Returns `(major, labels, minor)`; the minor ticks (2…9 × 10ᵏ, unlabelled) are
/// given when the range spans at most six decades. Powers of ten alone are labelled `10ᵏ`;
/// mixed with 2× and 5× ticks they are written out (`0.05`, `0.1`, `0.2`) when every tick
/// lies in `[10⁻³, 10⁵)`.
///
/// # Example
/// ```
/// use neurodyn::plot::ticks::log_ticks;
/// let (major, labels, minor) = log_ticks(0.01, 10.0, 6);
/// assert_eq!(major, [0.01, 0.1, 1.0, 10.0]);
/// assert_eq!(labels, ["10⁻²", "10⁻¹", "10⁰", "10¹"]);
/// assert_eq!(minor.len(), 24);
/// let (_, labels, _) = log_ticks(0.03, 0.6, 6);
/// assert_eq!(labels, ["0.05", "0.1", "0.2", "0.5"]);
/// ```
pub fn log_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > lo) {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let (llo, lhi) = (lo.log10(), hi.log10());
    let (e0, e1) = (llo.floor() as i32, lhi.ceil() as i32);
    let decades = lhi - llo;
    let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let every = ((decades / target.max(1) as f64).ceil() as i32).max(1);
    let powers: Vec<f64> = (e0..=e1)
        .filter(|e| e.rem_euclid(every) == 0)
        .map(pow10)
        .filter(|&v| inside(v))
        .collect();
    let dense = powers.len() < 3 && decades < 3.0;
    let mut major = powers;
    let mut minor = Vec::new();
    for e in e0..=e1 {
        for m in 2..10 {
            let v = f64::from(m) * pow10(e);
            if dense && (m == 2 || m == 5) && inside(v) {
                major.push(v);
            } else if decades <= 6.0 && inside(v) {
                minor.push(v);
            }
        }
    }
    major.sort_by(f64::total_cmp);
    if major.len() < 2 {
        // Less than a decade with no round value inside: fall back to linear ticks.
        let (t, l) = linear_ticks(lo, hi, target.min(4));
        return (t, l, Vec::new());
    }
    let plain = dense && major.iter().all(|v| (1e-3..1e5).contains(v));
    let labels = major
        .iter()
        .map(|&v| {
            let e = (v.log10() + 1e-9).floor() as i32;
            if plain || (v / pow10(e) - 1.0).abs() > 1e-9 {
                format_tick(v, e)
            } else {
                format!("10{}", superscript(e))
            }
        })
        .collect();
    (major, labels, minor)
}

/// A tick value as text, given the decimal exponent `k` of the tick step (so that `0.3` on a
/// step of `0.1` prints as `0.3`, never `0.30000000000000004`).
///
/// # Example
/// ```
/// use neurodyn::plot::ticks::format_tick;
/// assert_eq!(format_tick(0.1 + 0.2, -1), "0.3");
/// assert_eq!(format_tick(-2.5, -1), "−2.5");
/// assert_eq!(format_tick(250000.0, 4), "2.5×10⁵");
/// assert_eq!(format_tick(-0.0, 0), "0");
/// ```
pub fn format_tick(v: f64, step_exp: i32) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "\u{2212}" } else { "" };
    if a < pow10(step_exp) * 1e-6 || a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor() as i32;
        let digits = (e - step_exp).clamp(0, 12) as usize;
        let mut m = format!("{:.*}", digits, a / pow10(e));
        // Rounding can carry into the next power (9.99 → "10.0").
        let (m_val, e) = match m.parse::<f64>() {
            Ok(x) if x >= 10.0 => (x / 10.0, e + 1),
            Ok(x) => (x, e),
            Err(_) => (1.0, e),
        };
        m = trim_zeros(format!("{:.*}", digits, m_val));
        return if m == "1" {
            format!("{sign}10{}", superscript(e))
        } else {
            format!("{sign}{m}×10{}", superscript(e))
        };
    }
    let decimals = (-step_exp).clamp(0, 15) as usize;
    let s = trim_zeros(format!("{a:.decimals$}"));
    if s == "0" { s } else { format!("{sign}{s}") }
}

/// The decimal exponent to format a lone value with (for degenerate ranges).
fn step_exponent(v: f64) -> i32 {
    if v == 0.0 || !v.is_finite() {
        0
    } else {
        v.abs().log10().floor() as i32 - 3
    }
}

/// `10^e` for any exponent (`powi` loses exactness for large negative `e`).
fn pow10(e: i32) -> f64 {
    10f64.powi(e.clamp(-330, 330))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An integer in Unicode superscript digits (`−3` → `⁻³`).
fn superscript(e: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if e < 0 {
        s.push('⁻');
    }
    for c in e.unsigned_abs().to_string().chars() {
        s.push(DIGITS[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_inputs_give_few_ticks() {
        assert_eq!(linear_ticks(f64::NAN, 1.0, 5).0.len(), 0);
        assert_eq!(linear_ticks(3.0, 3.0, 5).0, [3.0]);
        assert!(linear_ticks(-1e300, 1e300, 5).0.len() <= MAX_TICKS);
        assert!(linear_ticks(1e16, 1e16 + 4.0, 5).0.len() <= MAX_TICKS);
        assert_eq!(log_ticks(-1.0, 1.0, 5).0.len(), 0);
    }

    #[test]
    fn superscripts() {
        assert_eq!(superscript(-12), "⁻¹²");
        assert_eq!(superscript(0), "⁰");
    }
}
