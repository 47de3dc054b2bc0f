#!/usr/bin/env bash
# `vault use --agent` on a release build, with a role profile assumed through moto:
#   - a request to the agent (what an SDK in a `use --agent` shell makes): p99 < 2 ms over 1,000
#     sequential requests on loopback, and still < 2 ms while another process holds 2,000 idle
#     connections to it (bench/server_latency.py, as for `exec --server`);
#   - `vault use --agent role` with the agent running and holding the role's credentials:
#     < 10 ms, side by side with `vault use role` from the cache;
#   - the idle agent's resident memory (VmRSS): < 10 MB, after the requests and after idling.
# A `sleep` stands in for the shell: the agent keeps a token while its shell runs.
# Needs hyperfine and moto (.venv/bin/moto_server, as .ci/run installs it). Prints a markdown
# summary; exits 1 when a budget is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned before HOME moves to the sandbox below, or cargo would look for its toolchain there.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
cargo build --release --quiet
VAULT=$PWD/target/release/vault
WORK=$(mktemp -d)
PIDS=()
AGENT_PID=
# (An agent that exited may stay a zombie for a while: it has a /proc entry but no cmdline.)
agent_running() { [ -n "$AGENT_PID" ] && grep -qs agent "/proc/$AGENT_PID/cmdline"; }
cleanup() {
  # The sandbox's agent, never the user's own: its directory is under $WORK.
  XDG_RUNTIME_DIR=$WORK/run "$VAULT" agent stop 2>/dev/null || true
  if agent_running; then kill "$AGENT_PID" || true; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# A non-interactive bash dies of these without running the EXIT trap, and would leave the agent.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

MOTO_SERVER=${MOTO_SERVER:-$(command -v moto_server || echo .venv/bin/moto_server)}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break; sleep 0.1; done

# Nothing of a vault shell this may run in: the sandbox's shell starts clean.
unset AWS_VAULT __VAULT_STATE AWS_PROFILE AWS_VAULT_USE_AGENT AWS_VAULT_AGENT_IDLE VAULT_AGENT_PID \
  VAULT_AGENT_STAMP AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
export HOME=$WORK/home AWS_CONFIG_FILE=$WORK/home/.aws/config AWS_VAULT_FILE_DIR=$WORK/home/.awsvault/keys
export XDG_RUNTIME_DIR=$WORK/run AWS_VAULT_BACKEND=file AWS_VAULT_FILE_PASSPHRASE=bench-passphrase
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
mkdir -p "$HOME/.aws"
mkdir -m 700 "$XDG_RUNTIME_DIR"
printf '[default]\nregion = eu-west-1\n[profile user]\n[profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::123456789012:role/bench\n' >"$AWS_CONFIG_FILE"
AWS_ACCESS_KEY_ID=AKIABENCHUSER AWS_SECRET_ACCESS_KEY=bench "$VAULT" add user --env >/dev/null

# The shell every token is given to; it runs until the end.
sleep 100000 &
SHELL_PID=$!
PIDS+=("$SHELL_PID")
export __VAULT_SHELL_PID=$SHELL_PID

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
within() { awk -v value="$1" -v budget="$2" 'BEGIN { print (value < budget) ? "yes" : "**no**" }'; }

# The first use starts the agent and makes the one AssumeRole.
start=${EPOCHREALTIME/./}
"$VAULT" use --agent role --shell bash >"$WORK/shell.sh" 2>/dev/null
end=${EPOCHREALTIME/./}
echo "first vault use --agent role (starts the agent, one AssumeRole): $(((end - start) / 1000)) ms"
AGENT_PID=$(sed -n "s/^export VAULT_AGENT_PID='\([0-9]*\)'$/\1/p" "$WORK/shell.sh")
if ! agent_running; then
  echo "vault use --agent printed no VAULT_AGENT_PID of a running agent" >&2
  exit 1
fi
RSS_STARTED=$(rss_kb)

# An SDK's requests, from the shell `use --agent` made (its token read from the file).
(
  # shellcheck source=/dev/null
  . "$WORK/shell.sh"
  python3 bench/server_latency.py
) | tee "$WORK/latency.txt"
p99() { grep -F "$1" "$WORK/latency.txt" | sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p'; }
P99=$(p99 'warm requests:')
P99_FLOOD=$(p99 'with 2,000 idle connections open')
RSS_SERVED=$(rss_kb)
sleep 6 # longer than a silent connection is kept (5 s)
RSS_IDLE=$(rss_kb)
HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
echo "agent VmRSS: $(mb "$RSS_STARTED") MB started, $(mb "$RSS_SERVED") MB after the requests," \
  "$(mb "$RSS_IDLE") MB after 6 s idle (peak $(mb "$HWM") MB)"

# `use --agent` of a profile the agent holds (each run registers one more token for the same
# shell), and plain `use` from the cache.
"$VAULT" use role --shell bash >/dev/null 2>&1
hyperfine -N --warmup 5 --runs 50 --export-markdown "$WORK/use.md" --export-json "$WORK/use.json" \
  -n 'vault use --agent role --shell bash (agent holds role)' \
  "$VAULT use --agent role --shell bash" \
  -n 'vault use role --shell bash (cached role)' "$VAULT use role --shell bash" >/dev/null
cat "$WORK/use.md"
read -r USE_AGENT USE_AGENT_SD USE_PLAIN < <(python3 -c '
import json, sys
agent, plain = json.load(open(sys.argv[1]))["results"]
ms = [agent["mean"], agent["stddev"], plain["mean"]]
print(" ".join("%.2f" % (s * 1000) for s in ms))' "$WORK/use.json")
"$VAULT" agent status | head -1
RSS_TOKENS=$(rss_kb)
echo "agent VmRSS with those tokens: $(mb "$RSS_TOKENS") MB"

"$VAULT" agent stop
for _ in $(seq 100); do agent_running || break; sleep 0.05; done
if agent_running || test -e "$XDG_RUNTIME_DIR/vault/agent"; then
  echo "the agent did not stop, or left files behind" >&2
  exit 1
fi

RSS_WORST=$((RSS_SERVED > RSS_IDLE ? RSS_SERVED : RSS_IDLE))
OK_P99=$(within "$P99" 2)
OK_FLOOD=$(within "$P99_FLOOD" 2)
OK_USE=$(within "$USE_AGENT" 10)
OK_RSS=$(within "$RSS_WORST" 10240)
cat <<EOF

| Budget | Measured | Within |
|:---|---:|:---:|
| agent request, p99 of 1,000 on loopback < 2 ms | $P99 ms | $OK_P99 |
| the same with 2,000 idle connections held < 2 ms | $P99_FLOOD ms | $OK_FLOOD |
| \`use --agent role\`, agent running < 10 ms | $USE_AGENT ± $USE_AGENT_SD ms (plain \`use role\`: $USE_PLAIN ms) | $OK_USE |
| idle agent VmRSS < 10 MB | $(mb "$RSS_SERVED") MB after requests, $(mb "$RSS_IDLE") MB idle | $OK_RSS |
EOF
case "$OK_P99 $OK_FLOOD $OK_USE $OK_RSS" in *no*) exit 1 ;; esac
