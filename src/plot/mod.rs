//! Figures for the things neurodyn fits and analyses: training curves, phase portraits (flow
//! fields, nullclines, trajectories, fixed points, rings of slow points), connectivity
//! loadings, histograms of weights, segmentations of time series into discrete states, and
//! bar charts of results. One scene is written as SVG text or rasterised to PNG.
//!
//! Feature `plot` (enabled by `cli`).
//!
//! # Model
//! A [`Figure`] is a grid of [`Axes`] panels. Each panel collects series (`line`, `scatter`,
//! `quiver`, `contour`, `heatmap`, `hist`, `bar`, `fill_between`, `stackplot`,
//! `state_bands`, `fixed_points`, `text`, `hline`/`vline`) and decorations (`title`,
//! `xlabel`/`ylabel`, `xlim`/`ylim`, `log_y`, `aspect_equal`, `legend`, `xticks`/`yticks`,
//! `colorbar`). Limits follow the data, ticks follow the 1-2-5 rule ([`ticks`]), colours come
//! from the colour-blind-safe Okabe–Ito palette ([`OKABE_ITO`]) and heatmaps use viridis by
//! default ([`Colormap`]). Building and writing SVG never fails; NaN and infinite values are
//! skipped, empty, single-point and constant data give valid (if plain) axes.
//!
//! # Rendering
//! The SVG is plain text written here (`svg.rs`), with text escaped and every coordinate
//! finite. PNGs come from rasterising that same SVG with [`resvg`](https://docs.rs/resvg)
//! (pure Rust, no system libraries), so both formats show the same figure. Text is set in
//! DejaVu Sans, embedded in the library (`font/`, Bitstream Vera licence) and the only font
//! the rasteriser is given: a PNG looks the same on every machine, and layout measures text
//! with that font's own advance widths (`metrics.rs`). resvg was chosen over `plotters`
//! because it keeps the drawing code ours (one SVG writer, two outputs) and brings only
//! rendering crates; SVG viewers use DejaVu Sans when installed and fall back to Helvetica or
//! Arial, which are metrically close.
//!
//! # Example: a phase portrait
//! ```
//! use neurodyn::plot::{FixedPointKind, Figure, Style};
//! // ẋ = y, ẏ = −x − 0.5 y on a 15 × 15 grid
//! let g: Vec<f64> = (0..15).map(|k| -2.0 + 4.0 * k as f64 / 14.0).collect();
//! let (mut x, mut y, mut u, mut v) = (vec![], vec![], vec![], vec![]);
//! for &b in &g {
//!     for &a in &g {
//!         x.push(a);
//!         y.push(b);
//!         u.push(b);
//!         v.push(-a - 0.5 * b);
//!     }
//! }
//! let mut fig = Figure::new(420, 400);
//! fig.ax()
//!     .quiver(&x, &y, &u, &v, Style::new())
//!     .contour(&g, &g, &u, 0.0, Style::new().label("ẋ = 0"))
//!     .contour(&g, &g, &v, 0.0, Style::new().label("ẏ = 0"))
//!     .fixed_points(&[0.0], &[0.0], FixedPointKind::Stable)
//!     .aspect_equal(true)
//!     .xlabel("x")
//!     .ylabel("y");
//! let svg = fig.to_svg();
//! assert!(svg.contains("ẏ = 0") && svg.ends_with("</svg>\n"));
//! let png = fig.to_png()?;
//! assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
//! # Ok::<(), neurodyn::plot::PlotError>(())
//! ```

mod axes;
mod color;
mod contour;
mod draw;
mod error;
mod figure;
mod glyph;
mod item;
mod layout;
mod legend;
mod metrics;
mod output;
mod panel;
mod scale;
mod series;
mod style;
mod svg;
pub mod ticks;

pub use axes::Axes;
pub use color::{Color, Colormap, OKABE_ITO};
pub use contour::contour_lines;
pub use error::PlotError;
pub use figure::Figure;
pub use scale::Scale;
pub use style::{FixedPointKind, LegendPos, LineDash, Marker, Style};
