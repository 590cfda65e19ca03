#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| neurodyn::fuzz_targets::sweep_spec(data));
