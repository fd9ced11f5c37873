//! Every fuzz target's committed corpus (`tests/fuzz/corpus/<target>`, grown and minimised by
//! `cargo fuzz`), replayed through the same function the target fuzzes: what once made it
//! crash or hang stays fixed, without a nightly toolchain.

use std::path::Path;

use brigade_tests::fuzzing::TARGETS;

#[test]
fn every_corpus_input_is_handled_without_a_panic() {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus");
    for (name, target) in TARGETS {
        let dir = corpora.join(name);
        let inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        assert!(!inputs.is_empty(), "{name}: an empty corpus");
        for input in inputs {
            let data = std::fs::read(&input).expect("a readable input");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", input.display());
        }
    }
}
