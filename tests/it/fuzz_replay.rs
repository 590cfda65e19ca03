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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn tape_ops_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzz_targets::tape_program(&data);
    }
}
