#!/usr/bin/env bash
# Hostile configs (budget: each ends in under a second with a clear error): a 10,000-deep
# source_profile chain and a 100,000-profile cycle, on the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
cargo build --release --quiet
VAULT=$PWD/target/release/vault
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK AWS_VAULT_BACKEND=file AWS_VAULT_FILE_PASSPHRASE=bench
for i in $(seq 0 9999); do printf '[profile p%d]\nsource_profile = p%d\n' "$i" $((i + 1)); done >"$WORK/deep"
for i in $(seq 0 99999); do printf '[profile q%d]\nsource_profile = q%d\n' "$i" $(((i + 1) % 100000)); done >"$WORK/cycle"
hyperfine -N -i --warmup 1 --runs 10 --export-markdown "$WORK/limits.md" \
  -n 'export p0 (10,000-deep chain)' "env AWS_CONFIG_FILE=$WORK/deep $VAULT export p0" \
  -n 'export q0 (100,000-profile cycle)' "env AWS_CONFIG_FILE=$WORK/cycle $VAULT export q0" >/dev/null
cat "$WORK/limits.md"
for f in deep cycle; do
  kb=$( { AWS_CONFIG_FILE=$WORK/$f /usr/bin/time -f '%M' "$VAULT" list --profiles >/dev/null; } 2>&1 | tail -1)
  echo "peak memory loading the $f config: $((kb / 1024)) MB"
done
