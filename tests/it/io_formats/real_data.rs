//! The real archives in `tests/data/` (see its README): UEA `.ts`, MIT-BIH CSV, NASCAR `.npz`.

use super::data;
use neurodyn::io::{ArrayData, CsvOptions, TsOptions, read_csv, read_npz, read_ts};

#[test]
fn japanese_vowels_train_and_test() {
    for (file, cases) in [
        ("uea/JapaneseVowels_TRAIN.ts", 270),
        ("uea/JapaneseVowels_TEST.ts", 370),
    ] {
        let ds = read_ts(data(file), &TsOptions::default()).unwrap();
        assert_eq!(ds.name, "JapaneseVowels");
        assert_eq!((ds.len(), ds.dims), (cases, 12), "{file}");
        assert_eq!(
            ds.class_names,
            ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
        );
        assert_eq!(ds.labels.len(), cases);
        let (lo, hi) = ds.length_range().unwrap();
        assert!(lo >= 7 && hi <= 29, "{file}: lengths {lo}–{hi}");
        // Every class occurs; series are finite.
        for c in 0..9 {
            assert!(ds.labels.contains(&c), "{file}: class {c} missing");
        }
        assert!(ds.series.iter().flatten().all(|v| v.is_finite()));
    }
    // Over both files the lengths span exactly 7..=29.
    let tr = read_ts(data("uea/JapaneseVowels_TRAIN.ts"), &TsOptions::default()).unwrap();
    let te = read_ts(data("uea/JapaneseVowels_TEST.ts"), &TsOptions::default()).unwrap();
    let (a, b) = (tr.length_range().unwrap(), te.length_range().unwrap());
    assert_eq!((a.0.min(b.0), a.1.max(b.1)), (7, 29));
    // The training set has 30 utterances per speaker.
    for c in 0..9 {
        assert_eq!(tr.labels.iter().filter(|&&l| l == c).count(), 30);
    }
    // First value of the first case, from the file's first data line.
    assert_eq!(tr.series[0][0], 1.860936);
    assert_eq!(tr.series[0][1], -0.207383); // dimension 2 at time 0
}

#[test]
fn basic_motions_train_and_test() {
    for file in ["uea/BasicMotions_TRAIN.ts", "uea/BasicMotions_TEST.ts"] {
        let ds = read_ts(data(file), &TsOptions::default()).unwrap();
        assert_eq!(
            (ds.name.as_str(), ds.len(), ds.dims),
            ("BasicMotions", 40, 6)
        );
        assert_eq!(
            ds.class_names,
            ["Standing", "Running", "Walking", "Badminton"]
        );
        assert_eq!(ds.length_range(), Some((100, 100)));
        for c in 0..4 {
            assert_eq!(ds.labels.iter().filter(|&&l| l == c).count(), 10, "{file}");
        }
    }
}

#[test]
fn mitdb_csv() {
    let t = read_csv(data("mitdb.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(t.names.as_deref().unwrap(), ["data", "label"]);
    assert_eq!((t.rows, t.cols), (7500, 2));
    assert_eq!(&t.data[..2], [-0.195, 0.0]);
    let label = t.column(t.column_index("label").unwrap());
    // Label 1 marks file lines 6938–7289 (1-based, the header is line 1), i.e. 0-based data
    // rows 6936–7287.
    let ones: Vec<usize> = (0..t.rows).filter(|&i| label[i] == 1.0).collect();
    assert_eq!(
        (ones[0], *ones.last().unwrap(), ones.len()),
        (6936, 7287, 352)
    );
}

#[test]
fn nascar_npz_members_and_shapes() {
    for file in [
        "nascar/standard_seed0_test1.npz",
        "nascar/softsticky_seed0_test1.npz",
    ] {
        let npz = read_npz(data(file)).unwrap();
        assert_eq!(
            npz.names(),
            [
                "C",
                "train_z",
                "train_x",
                "train_y",
                "train_labels",
                "test_z",
                "test_x",
                "test_y",
                "test_labels"
            ]
        );
        let shape = |n: &str| npz.get(n).unwrap().shape.clone();
        assert_eq!(shape("C"), [10, 2]);
        for s in ["train", "test"] {
            assert_eq!(shape(&format!("{s}_z")), [1000, 4]);
            assert_eq!(shape(&format!("{s}_x")), [1000, 2]);
            assert_eq!(shape(&format!("{s}_y")), [1000, 10]);
            assert_eq!(shape(&format!("{s}_labels")), [1000]);
            let labels = npz.get(&format!("{s}_labels")).unwrap();
            assert!(matches!(labels.data, ArrayData::I64(_)));
            assert!(
                labels
                    .to_i64_vec()
                    .unwrap()
                    .iter()
                    .all(|l| (0..4).contains(l))
            );
            // z is a relaxed one-hot: rows sum to 1.
            let (_, k, z) = npz
                .get(&format!("{s}_z"))
                .unwrap()
                .as_matrix::<f64>()
                .unwrap();
            for row in z.chunks(k) {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
        }
    }
    // The standard training labels: argmax counts [241, 217, 381, 161] (reference script).
    let npz = read_npz(data("nascar/standard_seed0_test1.npz")).unwrap();
    let labels = npz.get("train_labels").unwrap().to_i64_vec().unwrap();
    let counts: Vec<usize> = (0..4)
        .map(|k| labels.iter().filter(|&&l| l == k).count())
        .collect();
    assert_eq!(counts, [241, 217, 381, 161]);
}
