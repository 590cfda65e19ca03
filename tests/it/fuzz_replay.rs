//! Replays every fuzz corpus file and every saved crash on stable `cargo test`, and runs a short
//! random-bytes search of the same harnesses (cargo-fuzz itself needs nightly).

use neurodyn::fuzz_targets;
use proptest::prelude::*;
use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name()
                .is_some_and(|s| s.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let data = std::fs::read(&p).expect("readable corpus file");
            f(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn tape_ops_corpus_replays() {
    let n = replay("tape_ops", fuzz_targets::tape_program);
    assert!(n >= 16, "expected the committed corpus, found {n} files");
}

/// The case-JSON corpus: valid cases evaluate, broken ones are rejected, none panic.
#[test]
fn case_json_corpus_replays() {
    let n = replay("case_json", fuzz_targets::case_json);
    assert!(n >= 6, "expected the committed corpus, found {n} files");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/case_json");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(e.path()).unwrap();
        let ok = std::str::from_utf8(&bytes)
            .map(|text| neurodyn::cli::grad_case(text).is_ok())
            .unwrap_or(false);
        assert_eq!(ok, name.starts_with("valid_"), "{name}");
    }
}

/// The sweep-spec corpus: `valid_*` specs expand, `broken_*` ones are refused (a `.json` name is
/// read as JSON, others as TOML), none panic.
#[test]
fn sweep_spec_corpus_replays() {
    let n = replay("sweep_spec", fuzz_targets::sweep_spec);
    assert!(n >= 8, "expected the committed corpus, found {n} files");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/sweep_spec");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(e.path()).unwrap();
        let r = neurodyn::cli::sweep_spec(&text, name.ends_with(".json"));
        assert_eq!(r.is_ok(), name.starts_with("valid_"), "{name}: {r:?}");
    }
}

/// The data-format corpora: each has valid and broken seeds.
#[test]
fn data_format_corpora_replay() {
    for (target, f) in [
        ("npy_bytes", fuzz_targets::npy_bytes as fn(&[u8])),
        ("npz_bytes", fuzz_targets::npz_bytes),
        ("csv_bytes", fuzz_targets::csv_bytes),
        ("ts_bytes", fuzz_targets::ts_bytes),
    ] {
        let n = replay(target, f);
        assert!(
            n >= 8,
            "{target}: expected the committed corpus, found {n} files"
        );
    }
}

/// Seeds named `valid_*` parse and `broken_*` do not, so the corpora cover both sides.
#[test]
fn data_format_seeds_are_what_they_say() {
    use neurodyn::io::{CsvOptions, TsOptions, parse_csv, parse_npy, parse_npz, parse_ts};
    fn csv(d: &[u8]) -> bool {
        let lax = CsvOptions {
            allow_non_finite: true,
            ..CsvOptions::default()
        };
        parse_csv(d, &lax).is_ok()
    }
    fn ts(d: &[u8]) -> bool {
        parse_ts(
            d,
            &TsOptions {
                allow_missing: true,
            },
        )
        .is_ok()
    }
    type Parses = fn(&[u8]) -> bool;
    let checks: [(&str, Parses); 4] = [
        ("npy_bytes", |d| parse_npy(d).is_ok()),
        ("npz_bytes", |d| parse_npz(d).is_ok()),
        ("csv_bytes", csv),
        ("ts_bytes", ts),
    ];
    for (target, parses) in checks {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        for e in std::fs::read_dir(dir).expect("corpus folder").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ok = parses(&std::fs::read(e.path()).expect("readable"));
            if name.starts_with("valid_") {
                assert!(ok, "{target}/{name} should parse");
            } else if name.starts_with("broken_") {
                assert!(!ok, "{target}/{name} should not parse");
            }
        }
    }
}

/// Bytes that start like the format, so that random tails reach past the magic checks.
fn with_prefix(prefix: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300).prop_map(move |tail| [prefix, &tail].concat())
}

/// A corpus seed with a few bytes overwritten: mutations of valid files reach deep paths.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    seeds.sort();
    let seeds = if seeds.is_empty() {
        vec![vec![]]
    } else {
        seeds
    };
    (
        proptest::sample::select(seeds),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        any::<usize>(),
    )
        .prop_map(|(mut s, edits, cut)| {
            for (i, b) in edits {
                if !s.is_empty() {
                    let k = i % s.len();
                    s[k] = b;
                }
            }
            if cut % 4 == 0 {
                s.truncate(cut / 4 % (s.len() + 1));
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn tape_ops_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzz_targets::tape_program(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn npy_random_bytes(data in prop_oneof![with_prefix(b"\x93NUMPY\x01\x00"), mutated("npy_bytes")]) {
        fuzz_targets::npy_bytes(&data);
    }

    #[test]
    fn npz_random_bytes(data in prop_oneof![with_prefix(b"PK\x03\x04"), mutated("npz_bytes")]) {
        fuzz_targets::npz_bytes(&data);
    }

    #[test]
    fn csv_random_bytes(data in prop_oneof![
        proptest::collection::vec(proptest::sample::select(b"0123456789.,;\t\n\r\"# -+eE naif".to_vec()), 0..200),
        mutated("csv_bytes"),
    ]) {
        fuzz_targets::csv_bytes(&data);
    }

    #[test]
    fn sweep_spec_random_bytes(data in prop_oneof![
        proptest::collection::vec(proptest::sample::select(b"[]{}=\",.:0123456789 \ntruefalse_grid_fixed_list_command_train_gnode_lr_seed_".to_vec()), 0..200),
        mutated("sweep_spec"),
    ]) {
        fuzz_targets::sweep_spec(&data);
    }

    #[test]
    fn ts_random_bytes(data in prop_oneof![with_prefix(b"@classLabel true a b\n@data\n"), mutated("ts_bytes")]) {
        fuzz_targets::ts_bytes(&data);
    }
}
