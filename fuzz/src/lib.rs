//! Fuzz target bodies, shared by the libFuzzer target (`fuzz_targets/`, nightly) and the
//! stable mutational driver (`src/bin/mutate.rs`).

use bytes::Bytes;
use pyc_loader::marshal;

/// Feeds `data` to `marshal::loads` and `marshal::validate`, which must agree; whatever they
/// accept must be accepted by `dumps`, read back equal, and rewritten to the same bytes (the
/// writer is deterministic and its output is a fixed point). Panics otherwise.
pub fn unmarshal(data: &[u8]) {
    let loaded = marshal::loads(Bytes::copy_from_slice(data));
    // The audit's validator must accept exactly what the reader accepts, with the same error.
    match (&loaded, marshal::validate(data)) {
        (Ok(_), Ok(_)) => {}
        (Err(read), Err(validated)) => assert_eq!(*read, validated, "validate's error differs"),
        (read, validated) => panic!("loads gave {read:?} but validate gave {validated:?}"),
    }
    let Ok(obj) = loaded else {
        return;
    };
    let written =
        marshal::dumps(&obj).unwrap_or_else(|e| panic!("dumps refused what loads produced: {e}"));
    let again = marshal::loads(Bytes::from(written.clone()))
        .unwrap_or_else(|e| panic!("loads refused what dumps wrote: {e}"));
    assert!(again == obj, "value changed through dumps and loads");
    let rewritten = marshal::dumps(&again).expect("dumps accepted it once");
    assert!(rewritten == written, "dumps is not a fixed point");
}
