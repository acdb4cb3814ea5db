# pyc: build, test, parity, bench, fuzz, demo. See README.md.

PY312 := env PYENV_VERSION=3.12.1 python3
PYC := target/release/pyc
DEMO := target/demo

.PHONY: build test lint parity sweeps cpython-tests bench fuzz demo clean

build:
	cargo build --release

## The test suite: lints, unit tests, differential tests against the reference interpreters.
test: lint
	cargo test --workspace --all-targets

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Full sweeps over the CPython stdlib (minutes): the acceptance figures.
parity: build
	$(PY312) bench/check_stdlib.py $(PYC) bench-work/check
	$(PY312) fixtures/dis_sweep.py $(PYC)
	cargo build --release -p pyc-loader --example marshal_roundtrip
	for v in 3.11.7 3.12.1 3.13.0; do \
	  PYENV_VERSION=$$v python3 fixtures/marshal_roundtrip.py run \
	    --driver target/release/examples/marshal_roundtrip --opts 0,2 || exit 1; \
	done
	cargo build --release -p pyc-loader --example pyc_diff
	$(PY312) bench/compile_parity.py $(PYC) target/release/examples/pyc_diff

## Stage-by-stage sweeps of the compiler over the stdlib against CPython's intermediate results
## (AST, symbol tables, optimized AST, unparse, flow graph, assembly; ~30 min).
sweeps:
	cargo test --release -p pyc-compiler -- --ignored --nocapture

## CPython's own regression tests on a stdlib compiled by pyc, against CPython's own pycs.
cpython-tests: build
	$(PY312) bench/regrtest_with_pyc.py $(PYC)

## Speed against CPython, medians of alternating runs; figures go to BENCHMARKS.md.
bench: build
	$(PY312) bench/bench_check.py $(PYC)
	cargo build --release -p pyc-compiler --example compile_tree
	$(PY312) bench/bench_compile.py target/release/examples/compile_tree
	$(PY312) bench/programs/run.py $(PYC) 5
	$(PY312) bench/bench_compileall.py $(PYC)
	$(PY312) bench/bench_imports.py $(PYC)

## Fuzz the unmarshaller for a bounded time (FUZZ_SECONDS, default 300).
fuzz:
	fuzz/run.sh $(or $(FUZZ_SECONDS),300)

## The main job on a sample project: compiled, audited, disassembled and run by pyc.
demo: build
	rm -rf $(DEMO) && mkdir -p $(DEMO) && cp -r fixtures/sample/. $(DEMO)/
	$(PYC) compile $(DEMO)
	$(PYC) check $(DEMO)
	@echo "--- pyc run (from the caches), then CPython for comparison:"
	$(PYC) run $(DEMO)/main.py
	$(PY312) $(DEMO)/main.py
	@echo "--- pyc dis of app/util/__pycache__/text.cpython-312.pyc:"
	$(PYC) dis $(DEMO)/app/util/__pycache__/text.cpython-312.pyc
	@echo "--- after editing app/util/text.py and deleting a cache:"
	echo "# edited" >> $(DEMO)/app/util/text.py && touch -d '+1 min' $(DEMO)/app/util/text.py
	rm $(DEMO)/app/models/__pycache__/shapes.cpython-312.pyc
	-$(PYC) check $(DEMO)
	@echo "--- pyc compile repairs exactly those two:"
	$(PYC) compile $(DEMO)
	$(PYC) check $(DEMO)

clean:
	cargo clean
	rm -rf $(DEMO)
