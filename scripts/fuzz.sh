#!/usr/bin/env bash
# Fuzzes the store's input handling (validation, metadata parsing, every method) with
# cargo fuzz for a bounded time. Not part of CI. Usage: scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
# cargo fuzz builds with sanitizer flags that need a nightly compiler; RUSTC_BOOTSTRAP
# lets the stable toolchain accept them.
RUSTC_BOOTSTRAP=1 cargo fuzz run store_input --fuzz-dir fuzz -- -max_total_time="$seconds" -max_len=4096
