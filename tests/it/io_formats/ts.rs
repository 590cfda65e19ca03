//! `.ts` parsing beyond the real archives: variable length, univariate, missing values,
//! regression targets, header spellings.

use neurodyn::io::{DataErrorKind, TsOptions, parse_ts};

const OPTS: TsOptions = TsOptions {
    allow_missing: false,
};

#[test]
fn variable_length_multivariate() {
    let text = "# toy\n@problemName Toy Problem\n@timeStamps false\n@missing false\n\
                @univariate false\n@dimensions 2\n@equalLength false\n@classLabel true b a\n\
                @data\n1,2,3:4,5,6:a\n\n7:8:b\r\n0.5,1e-3:-2,3:a\n";
    let ds = parse_ts(text.as_bytes(), &OPTS).unwrap();
    assert_eq!(ds.name, "Toy Problem");
    assert_eq!((ds.dims, ds.len()), (2, 3));
    assert_eq!(ds.series[0], [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(ds.series[1], [7.0, 8.0]);
    assert_eq!(ds.series[2], [0.5, -2.0, 1e-3, 3.0]);
    assert_eq!(ds.labels, [1, 0, 1]);
    assert_eq!(ds.length_range(), Some((1, 3)));
}

#[test]
fn univariate_lowercase_tags_and_equal_length() {
    let text = "@problemname u\n@univariate true\n@equallength true\n@serieslength 3\n\
                @classlabel true 0 1\n@data\n1,2,3:0\n4,5,6:1\n";
    let ds = parse_ts(text.as_bytes(), &OPTS).unwrap();
    assert_eq!((ds.dims, ds.len(), ds.labels.clone()), (1, 2, vec![0, 1]));
    let e = parse_ts(
        b"@seriesLength 3\n@equalLength true\n@classLabel false\n@data\n1,2\n",
        &OPTS,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 5: series of length 2, but @seriesLength says 3"
    );
}

#[test]
fn missing_values_behind_an_option() {
    let text = b"@classLabel true x\n@data\n1,?,3:x\n";
    let e = parse_ts(text, &OPTS).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::BadValue);
    assert_eq!(e.location.as_deref(), Some("line 3, dimension 1, value 2"));
    assert!(e.message.contains("missing value '?'"), "{e}");
    let ds = parse_ts(
        text,
        &TsOptions {
            allow_missing: true,
        },
    )
    .unwrap();
    assert!(ds.series[0][1].is_nan());
}

#[test]
fn regression_targets_and_no_labels() {
    let ds = parse_ts(b"@targetLabel true\n@data\n1,2:3.5\n4,5:-1\n", &OPTS).unwrap();
    assert_eq!((ds.targets.clone(), ds.labels.len()), (vec![3.5, -1.0], 0));
    let ds = parse_ts(b"@classLabel false\n@data\n1,2:3,4\n", &OPTS).unwrap();
    assert_eq!(
        (ds.dims, ds.series[0].clone()),
        (2, vec![1.0, 3.0, 2.0, 4.0])
    );
}
