#!/usr/bin/env bash
# Cached roles (budget: `vault use role`, no MFA, the second time < 10 ms, as any cached path),
# side by side with awsume, which assumes the role each time, and with `--no-cache` (aws-vault's
# behaviour: one AssumeRole per command). STS is moto on loopback, so an AssumeRole here costs
# far less than the 100-300 ms it costs on AWS.
# Needs hyperfine and moto (.venv/bin/moto_server, as .ci/run installs it); awsume from PyPI is
# measured when `awsumepy` is on PATH or AWSUME names it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
cargo build --release --quiet
VAULT=$PWD/target/release/vault
AWSUME=${AWSUME:-$(command -v awsumepy || true)}
WORK=$(mktemp -d)
MOTO_SERVER=${MOTO_SERVER:-$(command -v moto_server || echo .venv/bin/moto_server)}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break; sleep 0.1; done

export HOME=$WORK/home AWS_CONFIG_FILE=$WORK/home/.aws/config AWS_VAULT_FILE_DIR=$WORK/home/.awsvault/keys
export AWS_VAULT_BACKEND=file AWS_VAULT_FILE_PASSPHRASE=bench-passphrase
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT __VAULT_SHELL=bash
mkdir -p "$HOME/.aws"
printf '[default]\nregion = eu-west-1\n[profile user]\n[profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::123456789012:role/bench\n' >"$AWS_CONFIG_FILE"
# awsume reads the same keys from the credentials file (vault never does).
printf '[user]\naws_access_key_id = AKIABENCHUSER\naws_secret_access_key = bench\n' >"$HOME/.aws/credentials"
AWS_ACCESS_KEY_ID=AKIABENCHUSER AWS_SECRET_ACCESS_KEY=bench "$VAULT" add user --env >/dev/null
"$VAULT" use role >/dev/null # the one AssumeRole that fills the cache

cmds=(-n 'vault use role (cached role)' "$VAULT use role"
  -n 'vault use --no-cache role (AssumeRole each time)' "$VAULT use --no-cache role"
  -n 'vault exec role -- true (cached role)' "$VAULT exec role -- true")
if [ -n "$AWSUME" ]; then
  cmds+=(-n 'awsume role (AssumeRole each time)' "$AWSUME role")
else
  echo "awsume not found (pip install awsume, or set AWSUME): measuring vault alone"
fi
hyperfine -N --warmup 3 --runs 30 --export-markdown "$WORK/roles.md" "${cmds[@]}" >/dev/null
cat "$WORK/roles.md"
