//! Colours: the categorical palette (Okabe–Ito) and continuous colormaps for heatmaps.

/// An opaque sRGB colour. Transparency is a property of a [`Style`](super::Style) (`alpha`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
}

/// The Okabe–Ito palette (Okabe & Ito 2008), safe for the common colour-vision deficiencies,
/// in the order series receive it: blue, vermillion, bluish green, orange, reddish purple, sky
/// blue, yellow, black. Yellow comes late because thin yellow lines are hard to see on white.
pub const OKABE_ITO: [Color; 8] = [
    Color::rgb(0x00, 0x72, 0xB2),
    Color::rgb(0xD5, 0x5E, 0x00),
    Color::rgb(0x00, 0x9E, 0x73),
    Color::rgb(0xE6, 0x9F, 0x00),
    Color::rgb(0xCC, 0x79, 0xA7),
    Color::rgb(0x56, 0xB4, 0xE9),
    Color::rgb(0xF0, 0xE4, 0x42),
    Color::rgb(0x00, 0x00, 0x00),
];

impl Color {
    /// Black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    /// A neutral mid grey, for reference lines and de-emphasised data.
    pub const GREY: Color = Color::rgb(0x88, 0x88, 0x88);

    /// A colour from its red, green and blue components.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Color { r, g, b }
    }

    /// Colour `i` of the categorical palette ([`OKABE_ITO`]), cycling after eight.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::Color;
    /// assert_eq!(Color::palette(0), Color::palette(8));
    /// assert_eq!(Color::palette(1).to_hex(), "#d55e00");
    /// ```
    pub fn palette(i: usize) -> Self {
        OKABE_ITO[i % OKABE_ITO.len()]
    }

    /// `#rrggbb`, as SVG wants it.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// The colour a fraction `t ∈ [0, 1]` of the way from `self` to `other` (clamped; NaN
    /// counts as 0).
    pub fn lerp(self, other: Color, t: f64) -> Color {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Color::rgb(
            mix(self.r, other.r),
            mix(self.g, other.g),
            mix(self.b, other.b),
        )
    }
}

/// A continuous colormap for heatmaps and colour bars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Colormap {
    /// Perceptually uniform dark blue → green → yellow (matplotlib's default), for magnitudes
    /// such as probabilities.
    #[default]
    Viridis,
    /// White → black, for print.
    Greys,
    /// Diverging blue → white → red (ColorBrewer RdBu, reversed), for signed values centred on
    /// zero such as connectivity weights `J_ij` (pair it with a symmetric colour range).
    BlueWhiteRed,
}

/// matplotlib's viridis sampled at 0, 0.1, …, 1.
const VIRIDIS: [u32; 11] = [
    0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151,
    0xbddf26, 0xfde725,
];
/// ColorBrewer RdBu (11 classes), from blue to red.
const BLUE_WHITE_RED: [u32; 11] = [
    0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d,
    0xb2182b, 0x67001f,
];
const GREYS: [u32; 2] = [0xffffff, 0x000000];

impl Colormap {
    /// The colour at `t ∈ [0, 1]` (clamped; NaN counts as 0), linearly interpolated between
    /// the map's anchor colours.
    ///
    /// # Example
    /// ```
    /// use neurodyn::plot::{Color, Colormap};
    /// assert_eq!(Colormap::Greys.at(0.0), Color::WHITE);
    /// assert_eq!(Colormap::Viridis.at(1.0).to_hex(), "#fde725");
    /// assert_eq!(Colormap::Viridis.at(f64::NAN), Colormap::Viridis.at(0.0));
    /// ```
    pub fn at(self, t: f64) -> Color {
        let anchors: &[u32] = match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Greys => &GREYS,
            Colormap::BlueWhiteRed => &BLUE_WHITE_RED,
        };
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let pos = t * (anchors.len() - 1) as f64;
        let i = (pos.floor() as usize).min(anchors.len() - 2);
        let c = |x: u32| Color::rgb((x >> 16) as u8, (x >> 8) as u8, x as u8);
        c(anchors[i]).lerp(c(anchors[i + 1]), pos - i as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_ends_and_middle() {
        let (a, b) = (Color::BLACK, Color::WHITE);
        assert_eq!(a.lerp(b, 0.0), a);
        assert_eq!(a.lerp(b, 1.0), b);
        assert_eq!(a.lerp(b, 0.5), Color::rgb(128, 128, 128));
        assert_eq!(a.lerp(b, 7.0), b);
    }

    #[test]
    fn colormaps_hit_their_anchors() {
        assert_eq!(Colormap::Viridis.at(0.0).to_hex(), "#440154");
        assert_eq!(Colormap::Viridis.at(0.5).to_hex(), "#21918c");
        assert_eq!(Colormap::BlueWhiteRed.at(0.5).to_hex(), "#f7f7f7");
        assert_eq!(Colormap::Greys.at(1.0), Color::BLACK);
        assert_eq!(Colormap::Greys.at(-3.0), Color::WHITE);
    }
}
