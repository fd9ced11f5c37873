#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| brigade_tests::fuzzing::pagerduty_signature(data));
