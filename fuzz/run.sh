#!/bin/sh
# Fuzzes the marshal reader/writer for SECONDS (default 300): fuzz/run.sh [SECONDS]
#
# Seeds are the marshal bodies of stdlib pycs compiled by the 3.11, 3.12 and 3.13 reference
# interpreters. With a nightly toolchain the `unmarshal` libFuzzer target runs (built as
# cargo-fuzz would build it, coverage-guided, with AddressSanitizer); otherwise, or with
# FUZZ_ENGINE=stable, the stable mutational driver `mutate` runs. Crashing inputs are saved
# under fuzz/artifacts/unmarshal/; the exit status is non-zero when one is found.
set -eu
seconds=${1:-300}
here=$(cd "$(dirname "$0")" && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/seeds" "$here/corpus/unmarshal" "$here/artifacts/unmarshal"
for v in 3.11.7 3.12.1 3.13.0; do
    PYENV_VERSION=$v python3 "$here/../fixtures/marshal_roundtrip.py" prepare \
        --work "$work/$v" --sample 150 --opts 0,2
    cp "$work/$v/orig/"*.pyc "$work/seeds/" 2>/dev/null || true
    for f in "$work/$v/orig/"*.pyc; do
        tail -c +17 "$f" > "$work/seeds/$v-$(basename "$f" .pyc).marshal"
    done
done

engine=${FUZZ_ENGINE:-auto}
if [ "$engine" = auto ]; then
    if cargo +nightly --version >/dev/null 2>&1; then engine=libfuzzer; else engine=stable; fi
fi

if [ "$engine" = libfuzzer ]; then
    triple=$(rustc -vV | sed -n 's/^host: //p')
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions \
-Coverflow-checks -Zsanitizer=address" \
        cargo +nightly build --release --manifest-path "$here/Cargo.toml" \
        --features libfuzzer --bin unmarshal --target "$triple"
    # libFuzzer's own inputs are marshal bodies; keep only seeds up to its -max_len.
    find "$work/seeds" -name '*.marshal' -size -64k -exec cp {} "$here/corpus/unmarshal/" \;
    "$CARGO_TARGET_DIR/$triple/release/unmarshal" -max_total_time="$seconds" -max_len=65536 \
        -artifact_prefix="$here/artifacts/unmarshal/" -print_final_stats=1 \
        "$here/corpus/unmarshal"
else
    cargo build --release --manifest-path "$here/Cargo.toml" --bin mutate
    "$CARGO_TARGET_DIR/release/mutate" "$seconds" "$work/seeds"
fi
