//! The plotting module: well-formed SVG, PNG headers and sizes, ticks, marching squares,
//! data→pixel mapping, and figures of hostile data (NaN, empty, constant, huge) that must
//! render without a panic.
#![cfg(feature = "plot")]

use neurodyn::plot::ticks::{format_tick, linear_ticks, log_ticks, nice_step};
use neurodyn::plot::{
    Color, Colormap, Figure, FixedPointKind, LegendPos, Marker, PlotError, Scale, Style,
    contour_lines,
};
use proptest::prelude::*;

/// Checks that every tag is closed in order and attribute quotes are balanced; returns the
/// number of elements.
fn balanced(svg: &str) -> usize {
    let mut stack: Vec<&str> = Vec::new();
    let mut count = 0;
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unterminated tag") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        assert!(!tag.contains('<'), "'<' inside tag <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name.trim()), "mismatched </{name}>");
        } else if !tag.starts_with('?') && !tag.starts_with('!') {
            count += 1;
            if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or(""));
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed tags {stack:?}");
    count
}

/// Well-formed by our checker and by a real XML parser, with only finite numbers.
fn assert_valid(svg: &str) {
    assert!(balanced(svg) > 1);
    resvg::usvg::roxmltree::Document::parse(svg).expect("XML parses");
    for bad in ["NaN", "inf", "e+", "e-"] {
        assert!(
            !svg.contains(&format!("=\"{bad}")),
            "non-finite number in SVG"
        );
    }
    assert!(!svg.contains("NaN") && !svg.contains("inf\""));
}

/// Width and height from a PNG's IHDR chunk (after checking the signature).
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |o: usize| u32::from_be_bytes([png[o], png[o + 1], png[o + 2], png[o + 3]]);
    (be(16), be(20))
}

#[test]
fn nice_ticks_follow_1_2_5() {
    assert_eq!(nice_step(0.9), (1.0, 0));
    assert_eq!(nice_step(1.5), (2.0, 0));
    assert_eq!(nice_step(0.004), (0.005, -3));
    let (t, l) = linear_ticks(-3.7, 12.2, 5);
    assert_eq!(t, [0.0, 5.0, 10.0]);
    assert_eq!(l, ["0", "5", "10"]);
    let (t, l) = linear_ticks(0.0, 0.9, 9);
    assert_eq!(t.len(), 10);
    assert_eq!(l[3], "0.3"); // not 0.30000000000000004
    let (_, l) = linear_ticks(-1.0, 1.0, 4);
    assert_eq!(l, ["−1", "−0.5", "0", "0.5", "1"]);
    let (_, l) = linear_ticks(0.0, 3e6, 3);
    assert_eq!(l, ["0", "10⁶", "2×10⁶", "3×10⁶"]);
    let (_, l) = linear_ticks(0.0, 2e-4, 2);
    assert_eq!(l, ["0", "10⁻⁴", "2×10⁻⁴"]);
    assert_eq!(format_tick(1234.5, -1), "1234.5");
    // Six decades for about four ticks: every second decade.
    let (major, labels, _) = log_ticks(1e-3, 1e3, 4);
    assert_eq!(major, [1e-2, 1.0, 1e2]);
    assert_eq!(labels, ["10⁻²", "10⁰", "10²"]);
    // Less than a decade: 2× and 5× ticks join in.
    let (major, _, _) = log_ticks(1.5, 12.0, 5);
    assert_eq!(major, [2.0, 5.0, 10.0]);
}

#[test]
fn zero_contour_of_circle_is_the_unit_circle() {
    let g: Vec<f64> = (0..61).map(|k| -1.5 + 0.05 * k as f64).collect();
    let f: Vec<f64> = g
        .iter()
        .flat_map(|&y| g.iter().map(move |&x| x * x + y * y - 1.0))
        .collect();
    let lines = contour_lines(&g, &g, &f, 0.0);
    assert_eq!(lines.len(), 1, "one closed curve");
    let line = &lines[0];
    assert_eq!(line.first(), line.last());
    assert!(line.len() > 60);
    for &(x, y) in line {
        assert!((x.hypot(y) - 1.0).abs() < 5e-3, "({x}, {y}) off the circle");
    }
    // It goes all the way round: every quadrant is visited.
    for (sx, sy) in [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)] {
        assert!(line.iter().any(|&(x, y)| x * sx > 0.5 && y * sy > 0.5));
    }
    // Level 3 (radius 2) only clips the grid's four corners: four open arcs.
    let arcs = contour_lines(&g, &g, &f, 3.0);
    assert_eq!(arcs.len(), 4);
    assert!(arcs.iter().all(|a| a.first() != a.last() && a.len() >= 2));
    // Radius √5 misses the grid altogether.
    assert!(contour_lines(&g, &g, &f, 4.0).is_empty());
}

#[test]
fn data_map_to_pixels() {
    let sx = Scale::linear(-1.0, 1.0, 100.0, 300.0);
    assert_eq!(sx.map(-1.0), Some(100.0));
    assert_eq!(sx.map(0.0), Some(200.0));
    assert_eq!(sx.map(3.0), Some(500.0));
    let sy = Scale::linear(0.0, 10.0, 400.0, 0.0);
    assert_eq!(sy.map(2.5), Some(300.0));
    assert_eq!(sy.map(f64::INFINITY), None);
    let sl = Scale::log(0.1, 1000.0, 200.0, 0.0);
    assert_eq!(sl.map(1.0), Some(150.0));
    assert_eq!(sl.map(0.0), None);
    let flat = Scale::linear(1.0, 1.0, 0.0, 100.0);
    assert_eq!(flat.map(7.0), Some(50.0));
    assert!(
        Scale::linear(-1e300, 1e300, 0.0, 100.0)
            .map(1.7e308)
            .is_some()
    );
}

/// One figure with every kind of series, on hostile data.
fn hostile_figure(data: &[f64]) -> Figure {
    let n = data.len();
    let idx: Vec<f64> = (0..n).map(|k| k as f64).collect();
    let mut fig = Figure::grid(640, 480, 2, 3);
    fig.suptitle("hostile <data> & \"quotes\"\u{7}");
    fig.panel(0, 0)
        .line(
            &idx,
            data,
            Style::new().label("line").marker(Marker::Diamond),
        )
        .scatter(data, data, Style::new().label("scatter"))
        .text(0.0, data.first().copied().unwrap_or(f64::NAN), "note")
        .hline(f64::NAN, Style::new())
        .vline(0.0, Style::new())
        .title("line & scatter");
    fig.panel(0, 1)
        .hist(data, 0, Style::new().label("hist"))
        .log_y(true);
    fig.panel(0, 2)
        .bar(&idx, data, f64::NAN, Style::new())
        .xticks(&idx, &["a", "b"]);
    fig.panel(1, 0)
        .quiver(data, data, data, data, Style::new())
        .contour(&idx, &idx, data, 0.0, Style::new())
        .fixed_points(data, data, FixedPointKind::Saddle)
        .aspect_equal(true)
        .legend(LegendPos::Outside);
    fig.panel(1, 1)
        .heatmap(data, 1, n, [0.0, 1.0, 0.0, 1.0], Colormap::BlueWhiteRed)
        .colorbar("value")
        .clim(f64::NAN, f64::INFINITY);
    let states: Vec<usize> = (0..n).map(|k| k % 3).collect();
    fig.panel(1, 2)
        .state_bands(&idx, &states)
        .stackplot(&idx, &[data, data], &["a"])
        .fill_between(&idx, data, &idx, Style::new())
        .xlim(f64::NAN, 1.0)
        .ylim(5.0, 5.0);
    fig
}

#[test]
fn hostile_data_never_panics_and_stays_valid() {
    let cases: Vec<Vec<f64>> = vec![
        vec![],
        vec![1.0],
        vec![f64::NAN],
        vec![3.0; 50],
        vec![0.0; 4],
        vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0, f64::NAN],
        vec![-f64::MAX, f64::MAX, 0.0, 1e-320, f64::MIN_POSITIVE],
        vec![1e16, 1e16 + 2.0, 1e16 + 4.0],
        (0..200)
            .map(|k| (k as f64 * 0.37).sin() * 10f64.powi(k % 40 - 20))
            .collect(),
    ];
    for data in &cases {
        let fig = hostile_figure(data);
        let svg = fig.to_svg();
        assert_valid(&svg);
        assert!(svg.contains("hostile &lt;data&gt; &amp; &quot;quotes&quot;"));
        let png = fig.to_png().expect("renders");
        assert_eq!(png_size(&png), (640, 480));
    }
}

#[test]
fn untouched_and_degenerate_figures_are_valid() {
    assert_valid(&Figure::new(300, 200).to_svg());
    let mut tiny = Figure::grid(3, 2, 4, 4);
    tiny.panel(3, 3)
        .line(&[0.0, 1.0], &[1.0, 0.0], Style::new())
        .title("t");
    assert_valid(&tiny.to_svg());
    assert_eq!(png_size(&tiny.to_png().unwrap()), (3, 2));
    let zero = Figure::new(0, 100);
    assert_valid(&zero.to_svg());
    assert!(matches!(
        zero.to_png(),
        Err(PlotError::Size {
            width: 0,
            height: 100
        })
    ));
    assert!(matches!(
        Figure::new(100_000, 10).to_png(),
        Err(PlotError::Size { .. })
    ));
    assert!(Figure::new(100, 100).to_png_scaled(f64::NAN).is_err());
}

#[test]
fn png_has_the_requested_size() {
    let mut fig = Figure::new(321, 123);
    fig.ax()
        .line(
            &[0.0, 1.0, 2.0],
            &[0.0, 1.0, 0.5],
            Style::new().color(Color::BLACK),
        )
        .xlabel("time (s)")
        .ylabel("rate (Hz)");
    assert_eq!(png_size(&fig.to_png().unwrap()), (321, 123));
    assert_eq!(png_size(&fig.to_png_scaled(2.0).unwrap()), (642, 246));
}

#[test]
fn ticks_and_labels_appear_in_the_svg() {
    let mut fig = Figure::new(500, 300);
    fig.ax()
        .line(
            &[0.0, 0.1, 0.2, 0.3],
            &[1.0, 10.0, 100.0, 1000.0],
            Style::new().label("growth"),
        )
        .log_y(true)
        .xlabel("x axis")
        .ylabel("y axis")
        .title("Title");
    let svg = fig.to_svg();
    assert_valid(&svg);
    for text in [
        ">0.3<", ">10³<", ">x axis<", ">y axis<", ">Title<", ">growth<",
    ] {
        assert!(svg.contains(text), "missing {text}");
    }
    assert!(!svg.contains("0000000"));
}

#[test]
fn save_picks_the_format_and_writes_atomically() {
    let dir = std::env::temp_dir().join(format!("neurodyn-plot-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut fig = Figure::new(200, 150);
    fig.ax().scatter(&[1.0, 2.0], &[2.0, 1.0], Style::new());
    fig.save(dir.join("a.svg")).unwrap();
    fig.save(dir.join("b.PNG")).unwrap();
    let svg = std::fs::read_to_string(dir.join("a.svg")).unwrap();
    assert_valid(&svg);
    assert_eq!(
        png_size(&std::fs::read(dir.join("b.PNG")).unwrap()),
        (200, 150)
    );
    let err = fig.save(dir.join("c.pdf")).unwrap_err();
    assert!(matches!(err, PlotError::UnsupportedFormat { .. }), "{err}");
    assert!(fig.save(dir.join("no-extension")).is_err());
    let missing = fig.save(dir.join("missing-dir").join("d.svg")).unwrap_err();
    assert!(matches!(missing, PlotError::Io { .. }));
    // Only the two figures are left: no temporary files.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.svg", "b.PNG"]);
    let top: neurodyn::Error = missing.into();
    assert!(top.to_string().contains("d.svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Any f64 at all, with the special values well represented.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -10.0..10.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => prop_oneof![Just(f64::MAX), Just(-f64::MAX), Just(f64::MIN_POSITIVE), Just(1e-310)],
        2 => any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the data and limits, every series kind gives well-formed SVG with finite
    /// coordinates, and the ticks stay few and finite.
    #[test]
    fn random_data_give_valid_figures(
        data in proptest::collection::vec(any_value(), 0..40),
        lim in (any_value(), any_value()),
        log_y in any::<bool>(),
        bins in 0usize..300,
    ) {
        let mut fig = hostile_figure(&data);
        fig.panel(0, 0).xlim(lim.0, lim.1).ylim(lim.1, lim.0).log_y(log_y);
        fig.panel(1, 2).hist(&data, bins, Style::new()).log_y(log_y);
        assert_valid(&fig.to_svg());
        let (t, l) = linear_ticks(lim.0.min(lim.1), lim.0.max(lim.1), bins % 12);
        prop_assert!(t.len() <= 50 && t.len() == l.len());
        prop_assert!(t.iter().all(|v| v.is_finite()));
        let (t, l, m) = log_ticks(lim.0.abs().min(lim.1.abs()), lim.0.abs().max(lim.1.abs()), bins % 12);
        prop_assert!(t.len() <= 60 && t.len() == l.len() && m.len() <= 600);
    }
}
