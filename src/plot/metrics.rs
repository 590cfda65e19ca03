//! Text measurement from the embedded font's own metrics, so that layout (margins, legends,
//! label overlap) matches what the rasteriser draws.
//!
//! A minimal TrueType reader: `head.unitsPerEm`, `hhea.numberOfHMetrics`, the `hmtx` advance
//! widths and a format-4 `cmap` (Unicode BMP). Every read is bounds-checked; a character the
//! font lacks (or a font that cannot be read) counts as 0.6 em. Kerning is ignored.

use std::sync::OnceLock;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `font/LICENSE`), embedded so that PNGs never
/// depend on the fonts installed on a machine.
pub(crate) static FONT: &[u8] = include_bytes!("font/DejaVuSans.ttf");

/// The family name written into SVG `font-family` and registered with the rasteriser.
pub(crate) const FAMILY: &str = "DejaVu Sans";

/// Average advance for characters the font cannot measure, in em.
const FALLBACK_EM: f64 = 0.6;

struct Metrics {
    units_per_em: f64,
    n_hmetrics: usize,
    hmtx: usize,
    cmap4: usize,
}

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]))
}

fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(off)?,
        *d.get(off + 1)?,
        *d.get(off + 2)?,
        *d.get(off + 3)?,
    ]))
}

/// The offset of table `tag` in the font.
fn table(d: &[u8], tag: &[u8; 4]) -> Option<usize> {
    let n = usize::from(u16_at(d, 4)?);
    (0..n).find_map(|k| {
        let rec = 12 + 16 * k;
        (d.get(rec..rec + 4)? == tag).then(|| u32_at(d, rec + 8).map(|o| o as usize))?
    })
}

fn parse(d: &[u8]) -> Option<Metrics> {
    let units_per_em = f64::from(u16_at(d, table(d, b"head")? + 18)?);
    let n_hmetrics = usize::from(u16_at(d, table(d, b"hhea")? + 34)?);
    let hmtx = table(d, b"hmtx")?;
    let cmap = table(d, b"cmap")?;
    let n_sub = usize::from(u16_at(d, cmap + 2)?);
    let cmap4 = (0..n_sub).find_map(|k| {
        let rec = cmap + 4 + 8 * k;
        let (platform, encoding) = (u16_at(d, rec)?, u16_at(d, rec + 2)?);
        let sub = cmap + u32_at(d, rec + 4)? as usize;
        let unicode = platform == 0 || (platform == 3 && encoding == 1);
        (unicode && u16_at(d, sub)? == 4).then_some(sub)
    })?;
    (units_per_em > 0.0 && n_hmetrics > 0).then_some(Metrics {
        units_per_em,
        n_hmetrics,
        hmtx,
        cmap4,
    })
}

impl Metrics {
    /// The glyph for `c` via the format-4 cmap (0 if missing).
    fn glyph(&self, d: &[u8], c: char) -> Option<u16> {
        let c = u16::try_from(u32::from(c)).ok()?;
        let t = self.cmap4;
        let seg_x2 = usize::from(u16_at(d, t + 6)?);
        let ends = t + 14;
        let starts = ends + seg_x2 + 2;
        let deltas = starts + seg_x2;
        let range_offsets = deltas + seg_x2;
        let k = (0..seg_x2 / 2).find(|&k| u16_at(d, ends + 2 * k).is_some_and(|e| e >= c))?;
        let start = u16_at(d, starts + 2 * k)?;
        if start > c {
            return Some(0);
        }
        let delta = u16_at(d, deltas + 2 * k)?;
        let ro_pos = range_offsets + 2 * k;
        let ro = usize::from(u16_at(d, ro_pos)?);
        if ro == 0 {
            return Some(c.wrapping_add(delta));
        }
        let g = u16_at(d, ro_pos + ro + 2 * usize::from(c - start))?;
        Some(if g == 0 { 0 } else { g.wrapping_add(delta) })
    }

    /// The advance of `c` in em.
    fn advance(&self, d: &[u8], c: char) -> Option<f64> {
        let g = usize::from(self.glyph(d, c)?);
        if g == 0 {
            return None;
        }
        let rec = self.hmtx + 4 * g.min(self.n_hmetrics - 1);
        Some(f64::from(u16_at(d, rec)?) / self.units_per_em)
    }
}

fn metrics() -> Option<&'static Metrics> {
    static M: OnceLock<Option<Metrics>> = OnceLock::new();
    M.get_or_init(|| parse(FONT)).as_ref()
}

/// The width in pixels of `text` set in the embedded font at `size` px.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let em: f64 = match metrics() {
        Some(m) => text
            .chars()
            .map(|c| m.advance(FONT, c).unwrap_or(FALLBACK_EM))
            .sum(),
        None => FALLBACK_EM * text.chars().count() as f64,
    };
    em * size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_parses_and_measures() {
        assert!(metrics().is_some());
        // DejaVu Sans: digits are 1303/2048 em wide, space 651/2048.
        assert!((text_width("0", 2048.0) - 1303.0).abs() < 1e-9);
        assert!((text_width(" ", 2048.0) - 651.0).abs() < 1e-9);
        assert!(text_width("W", 10.0) > text_width("i", 10.0));
        assert!(text_width("τ₀ −1 ×10⁵", 10.0) > 0.0);
        assert_eq!(text_width("", 10.0), 0.0);
    }

    #[test]
    fn garbage_fonts_do_not_parse() {
        assert!(parse(&[]).is_none());
        assert!(parse(&[0u8; 40]).is_none());
        assert!(parse(&FONT[..200]).is_none());
    }
}
