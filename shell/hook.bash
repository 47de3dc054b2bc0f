# shellcheck shell=bash
# vault: shell integration for bash. Load it from ~/.bashrc:
#   eval "$(vault hook bash)"
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (put ${VAULT_SEGMENT} in PS1), and renews
# credentials inside their refresh window: a background fetch fills the session cache, and the
# next prompt applies it, so no prompt waits on STS. It works under `set -euo pipefail`,
# failglob, nullglob, extglob, POSIXLY_CORRECT and any IFS: every function returns 0 unless
# it reports a failure, quotes every expansion and sets IFS where it splits. Loading it twice
# is harmless.

__VAULT_EXE=__VAULT_EXE_QUOTED__
__VAULT_STATUS_DIR=__VAULT_STATUS_DIR_QUOTED__

vault() {
  case "${1-}" in
    use | unuse | refresh)
      # Credentials must never reach a trace: xtrace and verbose stay off until they are applied.
      local __vault_flags=''
      if [[ $- == *x* ]]; then __vault_flags+=x; fi
      if [[ $- == *v* ]]; then __vault_flags+=v; fi
      { set +xv; } 2>/dev/null
      local __vault_code='' __vault_status=0
      __vault_code="$(__VAULT_SHELL=bash __VAULT_SHELL_PID=$$ "${__VAULT_EXE}" "$@")" || __vault_status=$?
      if ((__vault_status == 0)) && [[ -n "${__vault_code}" ]]; then
        if ! eval "${__vault_code}"; then
          printf '%s\n' "vault: this shell could not apply what \`vault $1\` printed; check the AWS_ variables with: env" >&2
          __vault_status=1
        fi
        __vault_reset
      fi
      __vault_update
      if [[ -n "${__vault_flags}" ]]; then set "-${__vault_flags}"; fi
      return "${__vault_status}"
      ;;
    doctor)
      # doctor cannot see this shell: it learns from these, for this one run, that the hook is
      # loaded, which version wrote it, and whether completion is registered. Nothing exported.
      local __vault_completion=missing
      if complete -p vault >/dev/null 2>&1; then __vault_completion=registered; fi
      __VAULT_SHELL=bash __VAULT_HOOK_VERSION=__VAULT_VERSION_QUOTED__ __VAULT_COMPLETION="${__vault_completion}" \
        "${__VAULT_EXE}" "$@"
      ;;
    *)
      "${__VAULT_EXE}" "$@"
      ;;
  esac
}

# Whether $1 is a whole number: values read from the environment go through arithmetic, which
# in bash would run what they might hold.
__vault_int() {
  [[ -n ${1-} && ${1-} != *[!0-9]* ]]
}

# The shell's own clock: no process started (bash 4.2 and later).
__vault_now() {
  if [[ -n "${EPOCHSECONDS-}" ]]; then
    __vault_clock=${EPOCHSECONDS}
  elif ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
    printf -v __vault_clock '%(%s)T' -1
  else
    __vault_clock=$(date +%s)
  fi
  return 0
}

# __vault_shown: $1 with control characters (C0, DEL, and C1 as UTF-8 encodes it) written as
# \xHH, so a profile name cannot drive the terminal. Byte by byte, in any locale.
__vault_visible() {
  local LC_ALL=C
  __vault_shown=${1-}
  [[ ${__vault_shown} == *[$'\x01'-$'\x1f'$'\x7f']* || ${__vault_shown} == *$'\xc2'[$'\x80'-$'\x9f']* ]] || return 0
  local __vault_i __vault_c __vault_hex
  __vault_shown=''
  for ((__vault_i = 0; __vault_i < ${#1}; __vault_i++)); do
    __vault_c=${1:__vault_i:1}
    if [[ ${__vault_c} == $'\xc2' && ${1:__vault_i+1:1} == [$'\x80'-$'\x9f'] ]]; then
      __vault_i=$((__vault_i + 1))
      __vault_c=${1:__vault_i:1}
    elif [[ ${__vault_c} != [$'\x01'-$'\x1f'$'\x7f'] ]]; then
      __vault_shown+=${__vault_c}
      continue
    fi
    printf -v __vault_hex '\\x%02x' "'${__vault_c}"
    __vault_shown+=${__vault_hex}
  done
  return 0
}

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty; "!" after
# the time when a refresh needs the user, "~" while a failed one is being retried.
__vault_update() {
  if [[ -z "${AWS_VAULT-}" ]]; then
    VAULT_SEGMENT=
    return 0
  fi
  local __vault_left='' __vault_text=${AWS_VAULT_PROMPT_FORMAT:-%p %t}
  if [[ -n "${VAULT_AGENT_PID-}" ]]; then
    # `use --agent`: the agent renews; the segment says it serves, or that it needs the user.
    if __vault_agent_gone; then
      __vault_left='agent gone'
    elif [[ -n "${VAULT_AGENT_STAMP-}" && -e "${VAULT_AGENT_STAMP}" ]]; then
      __vault_left='agent!'
    else
      __vault_left=agent
    fi
  elif __vault_int "${VAULT_EXPIRES_AT-}"; then
    # The prompt hook has just read the clock; anyone else reads it here.
    if [[ "${1-}" != fresh ]]; then __vault_now; fi
    local __vault_secs=$((VAULT_EXPIRES_AT - __vault_clock))
    if ((__vault_secs <= 0)); then
      __vault_left=expired
    else
      if ((__vault_secs < 60)); then
        __vault_left=${__vault_secs}s
      elif ((__vault_secs < 3600)); then
        __vault_left=$((__vault_secs / 60))m
      else
        printf -v __vault_left '%dh%02dm' $((__vault_secs / 3600)) $((__vault_secs % 3600 / 60))
      fi
      case ${__vault_refresh_state-} in
        needs) __vault_left+='!' ;;
        retry) __vault_left+='~' ;;
        *) ;;
      esac
    fi
  fi
  __vault_visible "${AWS_VAULT}"
  # Quoted replacements: bash 5.2 would otherwise expand & in them to the match.
  __vault_text=${__vault_text//%t/"${__vault_left}"}
  __vault_text=${__vault_text//%p/"${__vault_shown}"}
  __vault_text=${__vault_text#"${__vault_text%%[![:space:]]*}"}
  VAULT_SEGMENT=${__vault_text%"${__vault_text##*[![:space:]]}"}
  return 0
}

# Whether the agent serving this shell has exited or is leaving: its process is gone (a look at
# /proc), or its socket is (it removes that first when stopped).
__vault_agent_gone() {
  local __vault_stamp=${VAULT_AGENT_STAMP-}
  if [[ -n "${__vault_stamp}" && ! -S "${__vault_stamp%/needs/*}/agent.sock" ]]; then return 0; fi
  __vault_int "${VAULT_AGENT_PID-}" && [[ -d /proc/self && ! -e "/proc/${VAULT_AGENT_PID}" ]]
}

# `use --agent`, before each prompt, with builtins only: when the agent is gone (killed: its
# socket is left) or this shell's token is not its own (a nested shell inherits its parent's),
# get a token of its own without asking anything, once; when the agent was stopped on purpose
# (no socket), only say so. Say once when a renewal needs the user.
__vault_agent_tick() {
  __vault_visible "${AWS_VAULT}"
  local __vault_token=${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE-} __vault_case='' __vault_stamp=${VAULT_AGENT_STAMP-}
  if __vault_agent_gone; then
    if [[ -S "${__vault_stamp%/needs/*}/agent.sock" ]]; then
      __vault_case=killed
    else
      __vault_case=stopped
    fi
  elif [[ ! -e "${__vault_token}" || "${__vault_token##*/}" != "$$-"* ]]; then
    __vault_case=foreign
  fi
  if [[ -n "${__vault_case}" ]]; then
    if [[ "${__vault_agent_seen-}" == "${VAULT_AGENT_PID}:${__vault_token}" ]]; then return 0; fi
    __vault_agent_seen="${VAULT_AGENT_PID}:${__vault_token}"
    if [[ "${__vault_case}" == stopped ]]; then
      printf '%s\n' "vault: the agent serving ${__vault_shown} was stopped, so commands here get no credentials; run: vault use --agent ${__vault_shown}, or vault unuse" >&2
      return 0
    fi
    local __vault_code='' __vault_status=0 __vault_restored='' __vault_flags=''
    if [[ $- == *x* ]]; then __vault_flags+=x; fi
    if [[ $- == *v* ]]; then __vault_flags+=v; fi
    { set +xv; } 2>/dev/null
    __vault_code="$(__VAULT_SHELL=bash __VAULT_SHELL_PID=$$ "${__VAULT_EXE}" refresh --if-needed 2>/dev/null)" || __vault_status=$?
    if ((__vault_status == 0)) && [[ -n "${__vault_code}" ]] && eval "${__vault_code}"; then
      __vault_restored=1
    fi
    if [[ -n "${__vault_flags}" ]]; then set "-${__vault_flags}"; fi
    if [[ -n "${__vault_restored}" ]]; then
      if [[ "${__vault_case}" == killed ]]; then
        printf '%s\n' "vault: the agent serving ${__vault_shown} had stopped (killed?); vault started it again" >&2
      fi
    elif [[ "${__vault_case}" == killed ]]; then
      printf '%s\n' "vault: the agent serving ${__vault_shown} has stopped (killed?), so commands here get no credentials; run: vault refresh" >&2
    else
      printf '%s\n' "vault: this shell has no agent token of its own for ${__vault_shown}; run: vault refresh" >&2
    fi
    return 0
  fi
  if [[ -n "${__vault_stamp}" && -e "${__vault_stamp}" ]]; then
    if [[ "${__vault_agent_noted-}" == 1 ]]; then return 0; fi
    __vault_agent_noted=1
    local __vault_why=''
    IFS= read -r __vault_why <"${__vault_stamp}" 2>/dev/null || :
    printf '%s\n' "vault: the agent cannot renew the credentials of ${__vault_shown}: ${__vault_why}; run: vault refresh" >&2
  else
    __vault_agent_noted=''
  fi
  return 0
}

# A refresh worked, or the user ran use/unuse/refresh: forget earlier failures.
__vault_reset() {
  __vault_refresh_state=''
  __vault_last_warning=''
  __vault_agent_seen=''
  __vault_agent_noted=''
  __vault_retry_delay=0
  return 0
}

# Starts the one background fetch of this attempt; the next prompt collects it. Job control
# is off for it and it is disowned, so bash neither announces nor reports the job.
__vault_launch() {
  __vault_attempt=$((${__vault_attempt:-0} + 1))
  __vault_pending_since=${__vault_clock}
  __vault_refresh_state=pending
  local -
  set +m
  "${__VAULT_EXE}" refresh --background --attempt "${__vault_attempt}" \
    --status-file "${__VAULT_STATUS_DIR}/$$" </dev/null >/dev/null 2>&1 &
  disown "$!" 2>/dev/null || true
  return 0
}

# $1 retry or needs, $2 the warning, shown once until it changes.
__vault_failed() {
  __vault_refresh_state=$1
  if [[ "$1" = retry ]]; then
    local __vault_delay=${__vault_retry_delay:-0}
    if ((__vault_delay > 0)); then __vault_delay=$((__vault_delay * 2)); else __vault_delay=30; fi
    if ((__vault_delay > 240)); then __vault_delay=240; fi
    __vault_retry_delay=${__vault_delay}
    __vault_retry_at=$((__vault_clock + __vault_delay))
  fi
  if [[ "$2" != "${__vault_last_warning-}" ]]; then
    __vault_last_warning=$2
    printf '%s\n' "$2" >&2
  fi
  return 0
}

# Reads the background fetch's outcome (builtins only) and applies it from the cache.
__vault_collect() {
  local __vault_file="${__VAULT_STATUS_DIR}/$$" __vault_seen='' __vault_kind='' __vault_message=''
  if [[ -r "${__vault_file}" ]]; then
    {
      IFS=' ' read -r __vault_seen __vault_kind || true
      IFS= read -r __vault_message || true
    } <"${__vault_file}"
  fi
  __vault_visible "${AWS_VAULT}"
  if [[ "${__vault_seen}" != "${__vault_attempt-}" ]]; then
    if ((__vault_clock - ${__vault_pending_since:-0} > 60)); then
      __vault_failed retry "vault: the background refresh of ${__vault_shown} did not finish; vault tries again"
    fi
    return 0
  fi
  case ${__vault_kind} in
    ok)
      local __vault_flags='' __vault_code='' __vault_status=0
      if [[ $- == *x* ]]; then __vault_flags+=x; fi
      if [[ $- == *v* ]]; then __vault_flags+=v; fi
      { set +xv; } 2>/dev/null
      __vault_code="$(__VAULT_SHELL=bash "${__VAULT_EXE}" refresh --from-cache 2>/dev/null)" || __vault_status=$?
      if ((__vault_status == 0)) && { [[ -z "${__vault_code}" ]] || eval "${__vault_code}"; }; then
        __vault_reset
      else
        __vault_failed retry "vault: the credentials of ${__vault_shown} were fetched but could not be applied; vault tries again in the background"
      fi
      if [[ -n "${__vault_flags}" ]]; then set "-${__vault_flags}"; fi
      ;;
    retry) __vault_failed retry "${__vault_message}" ;;
    *) __vault_failed needs "${__vault_message}" ;;
  esac
  return 0
}

# Before each prompt: inside the refresh window, start, collect or retry the background fetch,
# then the segment. Outside the window it reads the clock and starts nothing. It runs after the
# user's own PROMPT_COMMAND, which still sees the command's $?, and it always succeeds, so
# `set -e` or an ERR trap in the shell never fires because of it.
__vault_precmd() {
  if [[ -z "${AWS_VAULT-}" ]]; then
    VAULT_SEGMENT=
    return 0
  fi
  __vault_now
  if [[ -n "${VAULT_AGENT_PID-}" ]]; then
    __vault_agent_tick
  elif __vault_int "${VAULT_REFRESH_AT-}" && ((__vault_clock >= VAULT_REFRESH_AT)); then
    if [[ "${__vault_refresh_state-}" = pending ]]; then
      __vault_collect
    elif __vault_int "${VAULT_EXPIRES_AT-}" && ((__vault_clock >= VAULT_EXPIRES_AT)); then
      : # Expired credentials are not retried: the segment says so, and `vault refresh` asks.
    elif [[ "${__vault_refresh_state-}" = retry ]]; then
      if ((__vault_clock >= ${__vault_retry_at:-0})); then __vault_launch; fi
    elif [[ "${__vault_refresh_state-}" != needs ]]; then
      __vault_launch
    fi
  fi
  __vault_update fresh
  return 0
}

# The prompt function for frameworks that call one (it prints the segment).
__vault_prompt() {
  __vault_update
  printf '%s' "${VAULT_SEGMENT}"
}

case ";${PROMPT_COMMAND[*]-};" in
  *__vault_precmd*) ;;
  *) PROMPT_COMMAND="${PROMPT_COMMAND:+${PROMPT_COMMAND};}__vault_precmd" ;;
esac
__vault_reset
__vault_update

# Tab completion: `vault hook bash` puts `vault completion bash` (shell/complete.bash) here.
__VAULT_COMPLETION__
