//! One test per class of malformed text input (CSV, `.ts`), asserting the error's kind,
//! location and that its message names the problem.

use super::expect;
use neurodyn::io::{CsvOptions, DataErrorKind as K, TsOptions, parse_csv, parse_ts};

#[test]
fn csv_malformed() {
    let o = CsvOptions::default();
    expect(parse_csv(b"", &o), K::Truncated, None, "the input is empty");
    expect(parse_csv(b"# only\n\n", &o), K::Truncated, None, "no rows");
    let at = |s| Some(s);
    expect(
        parse_csv(b"a,b\n1,nan\n", &o),
        K::BadValue,
        at("line 2, column 2"),
        "non-finite value 'nan'",
    );
    expect(
        parse_csv(b"1,2\n-inf,3\n", &o),
        K::BadValue,
        at("line 2, column 1"),
        "non-finite value '-inf'",
    );
    expect(
        parse_csv(b"1,2\n3,\n", &o),
        K::BadValue,
        at("line 2, column 2"),
        "empty cell",
    );
    expect(
        parse_csv(b"a,b\n1,2\n\n3\n", &o),
        K::BadValue,
        at("line 4"),
        "1 cells, but the first row (line 1) has 2",
    );
    expect(
        parse_csv(b"1,2\n3,x7\n", &o),
        K::BadValue,
        at("line 2, column 2"),
        "cannot parse 'x7'",
    );
    expect(
        parse_csv(b"a,\"b\n1,2\n", &o),
        K::BadValue,
        at("line 1"),
        "unterminated quote",
    );
    expect(
        parse_csv(b"1,2\n\xFF,2\n", &o),
        K::BadValue,
        at("line 2"),
        "not UTF-8",
    );
    expect(
        parse_csv(b"a;b\n1,5;2\n", &o),
        K::BadValue,
        at("line 2, column 1"),
        "decimal commas",
    );
    let allow = CsvOptions {
        allow_non_finite: true,
        ..o
    };
    let t = parse_csv(b"1,nan\n,inf\n", &allow).unwrap();
    assert!(t.data[1].is_nan() && t.data[2].is_nan() && t.data[3] == f64::INFINITY);
}

#[test]
fn ts_malformed() {
    let o = TsOptions::default();
    let at = |s| Some(s);
    expect(parse_ts(b"", &o), K::Truncated, None, "the input is empty");
    expect(
        parse_ts(b"@problemName x\n@classLabel true a\n", &o),
        K::Truncated,
        None,
        "no @data line",
    );
    expect(
        parse_ts(b"@classLabel true a\n@data\n", &o),
        K::Truncated,
        None,
        "no cases",
    );
    expect(
        parse_ts(b"@data\n1,2\n", &o),
        K::BadHeader,
        at("line 1"),
        "without @classLabel",
    );
    expect(
        parse_ts(b"1,2:a\n", &o),
        K::BadHeader,
        at("line 1"),
        "expected a header line",
    );
    expect(
        parse_ts(b"@problemName x\n@colour red\n", &o),
        K::BadHeader,
        at("line 2"),
        "unknown header line '@colour'",
    );
    expect(
        parse_ts(b"@timeStamps true\n", &o),
        K::Unsupported,
        at("line 1"),
        "timestamped",
    );
    expect(
        parse_ts(b"@univariate maybe\n", &o),
        K::BadHeader,
        at("line 1"),
        "true or false, found 'maybe'",
    );
    expect(
        parse_ts(b"@dimensions 0\n", &o),
        K::BadHeader,
        at("line 1"),
        "positive integer",
    );
    expect(
        parse_ts(
            b"@univariate true\n@dimensions 2\n@classLabel false\n@data\n",
            &o,
        ),
        K::BadHeader,
        at("line 4"),
        "@univariate true but @dimensions 2",
    );
    expect(
        parse_ts(b"@classLabel true a a\n", &o),
        K::BadHeader,
        at("line 1"),
        "lists 'a' twice",
    );
    let hdr = "@dimensions 2\n@classLabel true a b\n@data\n";
    let case = |body: &str| parse_ts(format!("{hdr}{body}").as_bytes(), &o);
    expect(
        case("1,2:3,4:c\n"),
        K::BadValue,
        at("line 4"),
        "unknown class label 'c'; @classLabel declares: a b",
    );
    expect(
        case("1,2:3,4:5,6:a\n"),
        K::BadValue,
        at("line 4"),
        "3 dimensions, but @dimensions says 2",
    );
    expect(
        case("1,2:3:a\n"),
        K::BadValue,
        at("line 4"),
        "dimension 2 has 1 values but dimension 1 has 2",
    );
    expect(
        case("1,2:3,x:a\n"),
        K::BadValue,
        at("line 4, dimension 2, value 2"),
        "cannot parse 'x'",
    );
    expect(
        case("1,,2:3,4,5:a\n"),
        K::BadValue,
        at("line 4, dimension 1, value 2"),
        "empty value",
    );
    expect(
        case("1:2:a\n@data\n"),
        K::BadHeader,
        at("line 5"),
        "after @data",
    );
    expect(
        case("1,inf:2,3:a\n"),
        K::BadValue,
        at("line 4, dimension 1, value 2"),
        "infinite",
    );
    expect(case("a\n"), K::BadValue, at("line 4"), "values and a label");
    // Without @dimensions the first case sets the count.
    let e = parse_ts(b"@classLabel false\n@data\n1:2\n1:2:3\n", &o).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 4: 3 dimensions, but the first case (line 3) has 2"
    );
}
