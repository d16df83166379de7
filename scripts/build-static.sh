#!/usr/bin/env bash
# Builds a fully static x86_64 Linux binary that runs on any distribution (Alpine, RHEL 8, a
# `FROM scratch` image): glibc linked statically via the gnu target's crt-static, nothing fetched.
#
#   scripts/build-static.sh            # → target/x86_64-unknown-linux-gnu/release/etcd-autopsy
#
# `--target` matters: with it RUSTFLAGS apply to the binary only, not to build scripts and proc
# macros (which must stay dynamic to be loaded by rustc). The tool resolves no host names and
# loads no NSS modules, so static glibc has none of its usual caveats here.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
target=x86_64-unknown-linux-gnu
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" "$@"
bin=target/$target/release/etcd-autopsy
# Static means: no PT_INTERP program header and no NEEDED entries in the dynamic section.
if readelf -lW "$bin" | grep -q 'Requesting program interpreter' || readelf -dW "$bin" | grep -q '(NEEDED)'; then
  echo "build-static: $bin is not static:" >&2
  readelf -dW "$bin" | grep NEEDED >&2 || true
  exit 1
fi
echo "$bin"
