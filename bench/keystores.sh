#!/usr/bin/env bash
# Keystore backends with 200 stored keys each, on a release build (budget: `vault list` with
# 200 items in the Secret Service < 300 ms). For every backend: `vault list --credentials`,
# and reading one key (`export --no-session`, which decrypts or fetches it and contacts no AWS).
# The 200 keys are put in place with `vault migrate` from the file keystore, which is timed too.
# Needs hyperfine, dbus, gnome-keyring, keyutils, pass and gnupg.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
cargo build --release --quiet
VAULT=$PWD/target/release/vault
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  GNUPGHOME=$WORK/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home XDG_DATA_HOME=$WORK/home/.local/share XDG_RUNTIME_DIR=$WORK/run
export AWS_CONFIG_FILE=$HOME/.aws/config AWS_VAULT_FILE_DIR=$HOME/.awsvault/keys
export AWS_VAULT_FILE_PASSPHRASE=bench-passphrase AWS_VAULT_FILE_PASSPHRASE_TTL=0
mkdir -p "$HOME/.aws" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
for i in $(seq 1 200); do printf '[profile k%03d]\n' "$i"; done >"$AWS_CONFIG_FILE"

# 200 keys in the file keystore, each written by vault (migrate reads every one).
for i in $(seq 1 200); do
  AWS_ACCESS_KEY_ID=$(printf 'AKIABENCHKEY%08d' "$i") AWS_SECRET_ACCESS_KEY=bench-secret \
    "$VAULT" --backend file add "$(printf 'k%03d' "$i")" --env --no-add-config >/dev/null
done

# A session bus with gnome-keyring (the login collection, which --unlock creates headless).
read -r BUS_ADDRESS BUS_PID < <(dbus-daemon --session --fork --print-address=1 --print-pid=1 \
  --address="unix:path=$XDG_RUNTIME_DIR/bus" | paste -sd' ')
PIDS+=("$BUS_PID")
export DBUS_SESSION_BUS_ADDRESS=$BUS_ADDRESS
printf pw | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q true && break
  sleep 0.05
done
GKD_PID=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/{print $2}')
PIDS+=("$GKD_PID")
export AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME=login

# pass with a batch-generated key.
export GNUPGHOME=$WORK/gnupg PASSWORD_STORE_DIR=$WORK/password-store
mkdir -m 700 "$GNUPGHOME"
gpg --batch --gen-key 2>/dev/null <<'EOF'
%no-protection
Key-Type: EDDSA
Key-Curve: ed25519
Subkey-Type: ECDH
Subkey-Curve: cv25519
Name-Real: Vault Bench
Name-Email: vault-bench@example.invalid
Expire-Date: 0
%commit
EOF
pass init "$(gpg --list-secret-keys --with-colons | awk -F: '/^fpr/{print $10; exit}')" >/dev/null

# The kernel keyring: a session keyring of this run's own (scope session), gone when it ends.
keyctl new_session >/dev/null
export AWS_VAULT_KEYCTL_SCOPE=session

for backend in secret-service keyctl pass; do
  start=${EPOCHREALTIME/./}
  "$VAULT" migrate --from file --to "$backend" >/dev/null
  end=${EPOCHREALTIME/./}
  echo "vault migrate --from file --to $backend (200 keys): $(((end - start) / 1000)) ms"
  test "$("$VAULT" --backend "$backend" list --credentials | wc -l)" -eq 200
done

args=()
for backend in file secret-service keyctl pass; do
  args+=(-n "list --credentials, $backend (200 keys)" "$VAULT --backend $backend list --credentials")
  args+=(-n "read one key, $backend" "$VAULT --backend $backend export k100 --no-session --format json")
done
args+=(-n "list (profiles + keys + sessions), secret-service" "$VAULT --backend secret-service list")
hyperfine -N --warmup 3 --runs 20 --export-markdown "$WORK/keystores.md" "${args[@]}" >/dev/null
cat "$WORK/keystores.md"
