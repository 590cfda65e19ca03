//! CSV round trips (with and without header, tricky names, all finite values and, when
//! allowed, NaN and infinities), separator detection, comments, quoting.

use super::scratch;
use neurodyn::io::{
    CsvOptions, CsvTable, DataErrorKind, HeaderMode, csv_to_string, parse_csv, read_csv, write_csv,
};
use proptest::prelude::*;

/// Column names that need quoting, or look like comments, or carry non-ASCII text.
fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,6}",
        Just("a,b".to_string()),
        Just("say \"hi\"".to_string()),
        Just("#hash".to_string()),
        Just(" padded ".to_string()),
        Just("température".to_string()),
        Just("\u{feff}bom".to_string()),
    ]
}

fn arb_table(finite: bool) -> impl Strategy<Value = CsvTable> {
    (0usize..8, 1usize..5, any::<bool>()).prop_flat_map(move |(rows, cols, header)| {
        let value = if finite {
            prop_oneof![
                any::<f64>().prop_filter("finite", |v| v.is_finite()),
                -1e3..1e3f64
            ]
            .boxed()
        } else {
            any::<f64>().boxed()
        };
        // A table with neither rows nor header would be an empty file (an error to read).
        let names = if header || rows == 0 {
            proptest::collection::vec(arb_name(), cols)
                .prop_map(Some)
                .boxed()
        } else {
            Just(None).boxed()
        };
        (names, proptest::collection::vec(value, rows * cols)).prop_map(move |(names, data)| {
            CsvTable {
                names,
                rows,
                cols,
                data,
            }
        })
    })
}

fn same(a: &CsvTable, b: &CsvTable) -> bool {
    a.names == b.names
        && (a.rows, a.cols) == (b.rows, b.cols)
        && a.data
            .iter()
            .map(|v| v.to_bits())
            .eq(b.data.iter().map(|v| v.to_bits()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trip_finite(t in arb_table(true)) {
        let text = csv_to_string(&t).unwrap();
        let back = parse_csv(text.as_bytes(), &CsvOptions::default()).unwrap();
        prop_assert!(same(&t, &back), "{}\n{:?}", text, back);
    }

    #[test]
    fn round_trip_non_finite_when_allowed(t in arb_table(false)) {
        let text = csv_to_string(&t).unwrap();
        let opts = CsvOptions { allow_non_finite: true, ..CsvOptions::default() };
        let back = parse_csv(text.as_bytes(), &opts).unwrap();
        // NaN payloads are not kept by text; compare NaN-ness instead of bits there.
        prop_assert_eq!(&t.names, &back.names);
        for (x, y) in t.data.iter().zip(&back.data) {
            prop_assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
        }
    }
}

#[test]
fn file_round_trip() {
    let dir = scratch("csv-file");
    let t = CsvTable {
        names: Some(vec!["t".into(), "x".into()]),
        rows: 2,
        cols: 2,
        data: vec![0.0, 0.1, 1.0, -2.5e-8],
    };
    let p = dir.join("t.csv");
    write_csv(&p, &t).unwrap();
    assert_eq!(read_csv(&p, &CsvOptions::default()).unwrap(), t);
}

#[test]
fn separators_comments_quotes_and_line_endings() {
    let opts = CsvOptions::default();
    let want = |names: bool| CsvTable {
        names: names.then(|| vec!["a".to_string(), "b c".to_string()]),
        rows: 2,
        cols: 2,
        data: vec![1.0, 2.0, 3.0, -4.5],
    };
    for text in [
        "a,b c\n1,2\n3,-4.5\n",
        "\u{feff}# exported\r\n\r\na;b c\r\n1;2\r\n  # note\r\n3;-4.5\r\n",
        "a\tb c\n1\t2\n\n3\t-4.5",
        "\"a\", \"b c\"\n\"1\",2\n3 , -4.5\n",
    ] {
        assert_eq!(
            parse_csv(text.as_bytes(), &opts).unwrap(),
            want(true),
            "{text:?}"
        );
    }
    assert_eq!(parse_csv(b"1,2\n3,-4.5\n", &opts).unwrap(), want(false));
    // Forced modes: numeric names, and a first row that is data.
    let present = CsvOptions {
        header: HeaderMode::Present,
        ..opts
    };
    let t = parse_csv(b"1,2\n3,4\n", &present).unwrap();
    assert_eq!(
        (t.names.unwrap(), t.rows),
        (vec!["1".to_string(), "2".to_string()], 1)
    );
    let absent = CsvOptions {
        header: HeaderMode::Absent,
        ..opts
    };
    let e = parse_csv(b"a,b\n1,2\n", &absent).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1, column 1: cannot parse 'a' as a number"
    );
    // An explicit separator, and one that cannot be.
    let pipe = CsvOptions {
        delimiter: Some(b'|'),
        ..opts
    };
    assert_eq!(parse_csv(b"1|2\n", &pipe).unwrap().data, [1.0, 2.0]);
    let e = parse_csv(
        b"1.2\n",
        &CsvOptions {
            delimiter: Some(b'.'),
            ..opts
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, DataErrorKind::InvalidInput);
    // Quotes: "" is a literal quote; a header may hold the separator inside quotes.
    let t = parse_csv(b"\"say \"\"hi\"\"\",\"x,y\"\n1,2\n", &opts).unwrap();
    assert_eq!(t.names.unwrap(), ["say \"hi\"", "x,y"]);
    // A header only: zero rows.
    let t = parse_csv(b"a,b\n", &opts).unwrap();
    assert_eq!((t.rows, t.cols, t.data.len()), (0, 2, 0));
}

#[test]
fn writer_errors() {
    let t = CsvTable {
        names: None,
        rows: 2,
        cols: 2,
        data: vec![1.0; 3],
    };
    assert_eq!(
        csv_to_string(&t).unwrap_err().kind,
        DataErrorKind::ShapeMismatch
    );
    let t = CsvTable {
        names: Some(vec!["a\nb".into()]),
        rows: 0,
        cols: 1,
        data: vec![],
    };
    assert!(
        csv_to_string(&t)
            .unwrap_err()
            .message
            .contains("line break")
    );
    let t = CsvTable {
        names: Some(vec!["a".into()]),
        rows: 0,
        cols: 2,
        data: vec![],
    };
    assert!(
        csv_to_string(&t)
            .unwrap_err()
            .message
            .contains("1 names for 2 columns")
    );
    let t = CsvTable {
        names: None,
        rows: 3,
        cols: 0,
        data: vec![],
    };
    assert!(
        csv_to_string(&t)
            .unwrap_err()
            .message
            .contains("no columns")
    );
}
