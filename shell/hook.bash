# shellcheck shell=bash
# vault: shell integration for bash. Load it from ~/.bashrc:
#   eval "$(vault hook bash)"
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (put ${VAULT_SEGMENT} in PS1), and refreshes
# credentials inside their refresh window. Loading it twice is harmless.

__VAULT_EXE=__VAULT_EXE_QUOTED__

vault() {
  case "${1-}" in
    use | unuse | refresh)
      # Credentials must never reach a trace: xtrace and verbose stay off until they are applied.
      local __vault_flags=''
      case $- in *x*) __vault_flags+=x ;; esac
      case $- in *v*) __vault_flags+=v ;; esac
      { set +xv; } 2>/dev/null
      local __vault_code __vault_status=0
      __vault_code="$(__VAULT_SHELL=bash "$__VAULT_EXE" "$@")" || __vault_status=$?
      if [ "$__vault_status" -eq 0 ] && [ -n "$__vault_code" ]; then
        eval "$__vault_code"
        __vault_refresh_failed=
      fi
      __vault_update
      if [ -n "$__vault_flags" ]; then set "-$__vault_flags"; fi
      return "$__vault_status"
      ;;
    *)
      "$__VAULT_EXE" "$@"
      ;;
  esac
}

# Whether $1 is a whole number: values read from the environment go through arithmetic, which
# in bash would run what they might hold.
__vault_int() {
  local __vault_digits=${1#-}
  [[ -n $__vault_digits && $__vault_digits != *[!0-9]* ]]
}

# The shell's own clock, plus the offset tests use: no process started (bash 4.2 and later).
__vault_now() {
  if [ -n "${EPOCHSECONDS-}" ]; then
    __vault_clock=$EPOCHSECONDS
  elif ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
    printf -v __vault_clock '%(%s)T' -1
  else
    __vault_clock=$(date +%s)
  fi
  if __vault_int "${VAULT_CLOCK_OFFSET-}"; then
    __vault_clock=$((__vault_clock + VAULT_CLOCK_OFFSET))
  fi
}

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty.
__vault_update() {
  if [ -z "${AWS_VAULT-}" ]; then
    VAULT_SEGMENT=
    return 0
  fi
  local __vault_left='' __vault_text=${AWS_VAULT_PROMPT_FORMAT:-%p %t}
  if __vault_int "${VAULT_EXPIRES_AT-}"; then
    # The prompt hook has just read the clock; anyone else reads it here.
    if [ "${1-}" != fresh ]; then __vault_now; fi
    local __vault_secs=$((VAULT_EXPIRES_AT - __vault_clock))
    if ((__vault_secs <= 0)); then
      __vault_left=expired
    elif ((__vault_secs < 60)); then
      __vault_left=${__vault_secs}s
    elif ((__vault_secs < 3600)); then
      __vault_left=$((__vault_secs / 60))m
    else
      printf -v __vault_left '%dh%02dm' $((__vault_secs / 3600)) $((__vault_secs % 3600 / 60))
    fi
    if [ -n "${__vault_refresh_failed-}" ]; then __vault_left="$__vault_left!"; fi
  fi
  # Quoted replacements: bash 5.2 would otherwise expand & in them to the match.
  __vault_text=${__vault_text//%t/"$__vault_left"}
  __vault_text=${__vault_text//%p/"$AWS_VAULT"}
  __vault_text=${__vault_text#"${__vault_text%%[![:space:]]*}"}
  VAULT_SEGMENT=${__vault_text%"${__vault_text##*[![:space:]]}"}
}

# Before each prompt: refresh inside the window (never prompting), then the segment. It runs
# after the user's own PROMPT_COMMAND, which still sees the command's $?, and it always
# succeeds, so `set -e` or an ERR trap in the shell never fires because of it.
__vault_precmd() {
  [ -n "${AWS_VAULT-}" ] || {
    VAULT_SEGMENT=
    return 0
  }
  __vault_now
  if __vault_int "${VAULT_REFRESH_AT-}" && [ -z "${__vault_refresh_failed-}" ]; then
    if ((__vault_clock >= VAULT_REFRESH_AT)); then
      if ! vault refresh --if-needed 2>/dev/null; then
        __vault_refresh_failed=1
        printf '%s\n' "vault: the credentials of $AWS_VAULT expire soon and could not be refreshed without asking; run: vault refresh" >&2
      fi
      __vault_now
    fi
  fi
  __vault_update fresh
  return 0
}

# The prompt function for frameworks that call one (it prints the segment).
__vault_prompt() {
  __vault_update
  printf '%s' "$VAULT_SEGMENT"
}

case ";${PROMPT_COMMAND[*]-};" in
  *__vault_precmd*) ;;
  *) PROMPT_COMMAND="${PROMPT_COMMAND:+$PROMPT_COMMAND;}__vault_precmd" ;;
esac
__vault_update
