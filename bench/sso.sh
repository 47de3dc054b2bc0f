#!/usr/bin/env bash
# IAM Identity Center on a release build, against moto and the SSO stand-in
# (tests/support/sso_standin.py), after one sign-in through the fake browser:
#   - `vault exec dev -- true` with cached SSO role credentials: < 5 ms over `true`;
#   - a command with a valid sign-in and no cached role credentials makes exactly one network
#     call, GetRoleCredentials (counted by the stand-in, and by strace where it can trace).
# Needs hyperfine (apt-get install hyperfine), and Python with botocore and moto (.venv, as
# .ci/run makes it; or set SSO_STANDIN_PYTHON and MOTO_SERVER). Exits 1 when a budget is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned before HOME moves to the sandbox below, or cargo would look for its toolchain there.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
cargo build --release --quiet
VAULT=$PWD/target/release/vault
if [ -n "${SSO_STANDIN_PYTHON:-}" ]; then
  PYTHON=$SSO_STANDIN_PYTHON
elif [ -x .venv/bin/python3 ]; then
  PYTHON=$PWD/.venv/bin/python3
else
  PYTHON=$(command -v python3)
fi
MOTO_SERVER=${MOTO_SERVER:-$(command -v moto_server || echo "$PWD/.venv/bin/moto_server")}

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  exec 3>&-
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home XDG_RUNTIME_DIR=$WORK/run
export AWS_CONFIG_FILE=$HOME/.aws/config AWS_VAULT_FILE_DIR=$HOME/.awsvault/keys
export AWS_VAULT_BACKEND=file AWS_VAULT_FILE_PASSPHRASE=bench-passphrase AWS_VAULT_FILE_PASSPHRASE_TTL=10m
mkdir -p "$HOME/.aws" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_VAULT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# moto, which gives the stand-in its role credentials.
MOTO_PORT=$(free_port)
"$MOTO_SERVER" -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 &
PIDS+=($!)
MOTO=http://127.0.0.1:$MOTO_PORT
for _ in $(seq 100); do curl -s -o /dev/null "$MOTO/moto-api/" && break; sleep 0.1; done

# The stand-in runs until its stdin closes: give it a pipe this script holds open (fd 3).
mkfifo "$WORK/standin.in"
exec 3<>"$WORK/standin.in"
"$PYTHON" tests/support/sso_standin.py --port 0 --moto "$MOTO" <&3 >"$WORK/standin.out" 2>"$WORK/standin.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$WORK/standin.out" 2>/dev/null && break; sleep 0.1; done
SSO=$(sed -n 's/^listening on //p' "$WORK/standin.out")
[ -n "$SSO" ] || { echo "the SSO stand-in did not start:" >&2; cat "$WORK/standin.err" >&2; exit 1; }
curl -sf -o /dev/null -X POST "$SSO/__control/config" -d '{"assignments": [{"accountId": "111111111111",
  "accountName": "dev", "emailAddress": "dev@example.com", "roles": ["Developer", "ReadOnly"]}]}'
stats() { curl -sf "$SSO/__control/stats"; }

cat >"$AWS_CONFIG_FILE" <<'EOF'
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Developer
region = us-east-1
[profile ro]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-east-1
EOF
export AWS_ENDPOINT_URL_SSO_OIDC=$SSO AWS_ENDPOINT_URL_SSO=$SSO AWS_ENDPOINT_URL=$MOTO
export BROWSER="$PYTHON $PWD/tests/support/fake_browser.py --log $WORK/browser.log"

# One sign-in through the fake browser, then the role credentials of dev into the cache.
"$VAULT" sso login dev 2>"$WORK/signin.err" || { cat "$WORK/signin.err" >&2; exit 1; }
"$VAULT" exec dev -- true
test "$(wc -l <"$WORK/browser.log")" -eq 1
# As a person works: the passphrase typed once, then kept in the kernel keyring with the
# session (nothing is kept for a passphrase given in the environment), as bench/run.sh does.
unset AWS_VAULT_FILE_PASSPHRASE
python3 tests/support/pty_run.py '[["Enter passphrase", "bench-passphrase\n"]]' -- "$VAULT" export dev >/dev/null

hyperfine -N --warmup 5 --runs 50 --export-markdown "$WORK/exec.md" --export-json "$WORK/exec.json" \
  -n 'true' 'true' \
  -n 'vault exec dev -- true (cached SSO role credentials)' "$VAULT exec dev -- true" \
  -n 'vault export dev (cached SSO role credentials)' "$VAULT export dev" >/dev/null
cat "$WORK/exec.md"
# The same with the passphrase in the environment, which opts out of the kernel keyring: each
# run decrypts the session file (8,192 rounds of PBKDF2). For comparison; no budget.
AWS_VAULT_FILE_PASSPHRASE=bench-passphrase \
  hyperfine -N --warmup 5 --runs 50 --export-markdown "$WORK/env.md" \
  -n 'vault exec dev -- true (AWS_VAULT_FILE_PASSPHRASE set)' "$VAULT exec dev -- true" >/dev/null
tail -n +3 "$WORK/env.md"
OVER=$("$PYTHON" -c '
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["true"]["mean"]
print("%.2f" % ((results["vault exec dev -- true (cached SSO role credentials)"]["mean"] - base) * 1000))
' "$WORK/exec.json")
budget=ok
awk -v over="$OVER" 'BEGIN { exit !(over < 5) }' || budget=OVER
echo "vault exec dev -- true over true: $OVER ms (budget < 5 ms): $budget"

# A valid sign-in, no cached role credentials: ro has never been used. The stand-in counts
# every API call and browser page; strace counts every connection vault opens.
before=$(stats)
if strace -f -qq -e trace=connect -o "$WORK/connect.txt" true 2>/dev/null; then
  strace -f -qq -e trace=connect -o "$WORK/connect.txt" "$VAULT" export ro --format json >"$WORK/ro.json"
  connects=$(grep -c 'sa_family=AF_INET' "$WORK/connect.txt" || true)
else
  "$VAULT" export ro --format json >"$WORK/ro.json"
  connects=
fi
after=$(stats)
NETWORK=$("$PYTHON" -c '
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
calls = {}
for name, n in after["operations"].items():
    if n - before["operations"].get(name, 0):
        calls[name] = n - before["operations"].get(name, 0)
pages = after["authorize"] - before["authorize"] + after["device_approvals"] - before["device_approvals"]
print(" ".join(f"{k}={v}" for k, v in sorted(calls.items())) or "none", sum(calls.values()) + pages)
' "$before" "$after")
read -r CALLS TOTAL <<<"$NETWORK"
grep -q '"AccessKeyId"' "$WORK/ro.json"
echo "vault export ro (valid sign-in, no cached role credentials): stand-in calls: $CALLS; connections opened: ${connects:-not traced (no strace)}"
calls=FAILED
if [ "$CALLS" = "GetRoleCredentials=1" ] && [ "$TOTAL" -eq 1 ] && { [ -z "$connects" ] || [ "$connects" -eq 1 ]; }; then
  calls=ok
fi
echo "exactly one network call (GetRoleCredentials): $calls"
test "$(wc -l <"$WORK/browser.log")" -eq 1
[ "$budget" = ok ] && [ "$calls" = ok ]
