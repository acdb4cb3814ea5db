#![no_main]
//! libFuzzer target: arbitrary bytes into `marshal::loads`, and back through `dumps`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyc_fuzz::unmarshal(data));
