# vault: shell integration for zsh. ShellCheck has no zsh dialect and shfmt cannot parse zsh,
# so tests/shell_lint.rs checks this file with `zsh -n`. Load it from ~/.zshrc:
#   eval "$(vault hook zsh)"
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (setopt PROMPT_SUBST and put ${VAULT_SEGMENT}
# in PROMPT), and renews credentials inside their refresh window: a background fetch fills the
# session cache, and the next prompt or command applies it, so nothing waits on STS.
# Every function runs under `emulate -L zsh`, so the user's options (SH_GLOB, KSH_ARRAYS,
# NO_UNSET...) change nothing; no syntax here depends on them either. Loading it twice is
# harmless.

zmodload zsh/datetime 2>/dev/null
typeset -g __VAULT_EXE=__VAULT_EXE_QUOTED__
typeset -g __VAULT_STATUS_DIR=__VAULT_STATUS_DIR_QUOTED__

vault() {
  emulate -L zsh
  # Credentials must never reach a trace.
  setopt no_xtrace no_verbose
  case ${1-} in
    use | unuse | refresh)
      local __vault_code __vault_status=0
      __vault_code="$(__VAULT_SHELL=zsh __VAULT_SHELL_PID=$$ "$__VAULT_EXE" "$@")" || __vault_status=$?
      if ((__vault_status == 0)) && [[ -n $__vault_code ]]; then
        if ! eval "$__vault_code"; then
          print -ru2 -- "vault: this shell could not apply what \`vault $1\` printed; check the AWS_ variables with: env"
          __vault_status=1
        fi
        __vault_reset
      fi
      __vault_update
      return $__vault_status
      ;;
    doctor)
      # doctor cannot see this shell: it learns from these, for this one run, that the hook is
      # loaded, which version wrote it, and whether compinit ran and completion is registered.
      local __vault_completion=missing
      if (( ! ${+functions[compdef]} )); then
        __vault_completion=no-compinit
      elif (( ${+_comps} )) && [[ -n ${_comps[vault]-} ]]; then
        __vault_completion=registered
      fi
      __VAULT_SHELL=zsh __VAULT_HOOK_VERSION=__VAULT_VERSION_QUOTED__ __VAULT_COMPLETION=$__vault_completion \
        "$__VAULT_EXE" "$@"
      ;;
    *)
      "$__VAULT_EXE" "$@"
      ;;
  esac
}

# Whether $1 is a whole number: values from the environment go through arithmetic, which
# would run what they hold.
__vault_int() {
  emulate -L zsh
  [[ -n ${1-} && ${1-} != *[^0-9]* ]]
}

# REPLY: $1 with control characters (C0, DEL, and C1 as UTF-8 encodes it) written as \xHH,
# so a profile name cannot drive the terminal. Byte by byte, in any locale.
__vault_visible() {
  emulate -L zsh
  setopt no_multibyte
  typeset -g REPLY=$1
  [[ $1 == *[$'\x01'-$'\x1f'$'\x7f']* || $1 == *$'\xc2'[$'\x80'-$'\x9f']* ]] || return 0
  local -i __vault_i
  local __vault_c __vault_hex
  REPLY=
  for ((__vault_i = 1; __vault_i <= ${#1}; __vault_i++)); do
    __vault_c=${1[__vault_i]}
    if [[ $__vault_c == $'\xc2' && ${1[__vault_i + 1]} == [$'\x80'-$'\x9f'] ]]; then
      ((__vault_i++))
      __vault_c=${1[__vault_i]}
    elif [[ $__vault_c != [$'\x01'-$'\x1f'$'\x7f'] ]]; then
      REPLY+=$__vault_c
      continue
    fi
    printf -v __vault_hex '\\x%02x' "'$__vault_c"
    REPLY+=$__vault_hex
  done
  return 0
}

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty; "!" after
# the time when a refresh needs the user, "~" while a failed one is being retried.
__vault_update() {
  emulate -L zsh
  if [[ -z ${AWS_VAULT-} ]]; then
    typeset -g VAULT_SEGMENT=
    return 0
  fi
  local __vault_left='' __vault_text=${AWS_VAULT_PROMPT_FORMAT:-%p %t}
  if [[ -n ${VAULT_AGENT_PID-} ]]; then
    # `use --agent`: the agent renews; the segment says it serves, or that it needs the user.
    if __vault_agent_gone; then
      __vault_left='agent gone'
    elif [[ -n ${VAULT_AGENT_STAMP-} && -e $VAULT_AGENT_STAMP ]]; then
      __vault_left='agent!'
    else
      __vault_left=agent
    fi
  elif __vault_int "${VAULT_EXPIRES_AT-}"; then
    local -i __vault_secs=$((VAULT_EXPIRES_AT - EPOCHSECONDS))
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
      esac
    fi
  fi
  __vault_visible "$AWS_VAULT"
  __vault_text=${__vault_text//\%t/$__vault_left}
  __vault_text=${__vault_text//\%p/$REPLY}
  __vault_text=${__vault_text#"${__vault_text%%[![:space:]]*}"}
  typeset -g VAULT_SEGMENT=${__vault_text%"${__vault_text##*[![:space:]]}"}
  return 0
}

# Whether the agent serving this shell has exited or is leaving: its process is gone (a look at
# /proc), or its socket is (it removes that first when stopped).
__vault_agent_gone() {
  emulate -L zsh
  [[ -n ${VAULT_AGENT_STAMP-} && ! -S ${VAULT_AGENT_STAMP%/needs/*}/agent.sock ]] && return 0
  __vault_int "${VAULT_AGENT_PID-}" && [[ -d /proc/self && ! -e /proc/$VAULT_AGENT_PID ]]
}

# `use --agent`, before each command and prompt, with builtins only: when the agent is gone
# (killed: its socket is left) or this shell's token is not its own (a nested shell inherits
# its parent's), get a token of its own without asking anything, once; when the agent was
# stopped on purpose (no socket), only say so. Say once when a renewal needs the user.
__vault_agent_tick() {
  emulate -L zsh
  setopt no_xtrace no_verbose
  __vault_visible "$AWS_VAULT"
  local __vault_token=${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE-} __vault_case=''
  if __vault_agent_gone; then
    if [[ -S ${${VAULT_AGENT_STAMP-}%/needs/*}/agent.sock ]]; then
      __vault_case=killed
    else
      __vault_case=stopped
    fi
  elif [[ ! -e $__vault_token || ${__vault_token:t} != "$$-"* ]]; then
    __vault_case=foreign
  fi
  if [[ -n $__vault_case ]]; then
    [[ ${__vault_agent_seen-} == "$VAULT_AGENT_PID:$__vault_token" ]] && return 0
    typeset -g __vault_agent_seen="$VAULT_AGENT_PID:$__vault_token"
    if [[ $__vault_case == stopped ]]; then
      print -ru2 -- "vault: the agent serving $REPLY was stopped, so commands here get no credentials; run: vault use --agent $REPLY, or vault unuse"
      return 0
    fi
    local __vault_code __vault_status=0
    __vault_code="$(__VAULT_SHELL=zsh __VAULT_SHELL_PID=$$ "$__VAULT_EXE" refresh --if-needed 2>/dev/null)" || __vault_status=$?
    if ((__vault_status == 0)) && [[ -n $__vault_code ]] && eval "$__vault_code"; then
      [[ $__vault_case == killed ]] && print -ru2 -- "vault: the agent serving $REPLY had stopped (killed?); vault started it again"
    elif [[ $__vault_case == killed ]]; then
      print -ru2 -- "vault: the agent serving $REPLY has stopped (killed?), so commands here get no credentials; run: vault refresh"
    else
      print -ru2 -- "vault: this shell has no agent token of its own for $REPLY; run: vault refresh"
    fi
    return 0
  fi
  if [[ -n ${VAULT_AGENT_STAMP-} && -e $VAULT_AGENT_STAMP ]]; then
    [[ ${__vault_agent_noted-} == 1 ]] && return 0
    typeset -g __vault_agent_noted=1
    local __vault_why=''
    IFS= read -r __vault_why <"$VAULT_AGENT_STAMP" 2>/dev/null
    print -ru2 -- "vault: the agent cannot renew the credentials of $REPLY: $__vault_why; run: vault refresh"
  else
    typeset -g __vault_agent_noted=''
  fi
  return 0
}

# A refresh worked, or the user ran use/unuse/refresh: forget earlier failures.
__vault_reset() {
  typeset -g __vault_refresh_state='' __vault_last_warning='' __vault_agent_seen='' __vault_agent_noted=''
  typeset -gi __vault_retry_delay=0
}

# Starts the one background fetch of this attempt; the next prompt or command collects it.
__vault_launch() {
  emulate -L zsh
  typeset -gi __vault_attempt=$((${__vault_attempt:-0} + 1)) __vault_pending_since=$EPOCHSECONDS
  typeset -g __vault_refresh_state=pending
  "$__VAULT_EXE" refresh --background --attempt "$__vault_attempt" \
    --status-file "$__VAULT_STATUS_DIR/$$" </dev/null >/dev/null 2>&1 &!
  return 0
}

# $1 retry or needs, $2 the warning, shown once until it changes.
__vault_failed() {
  emulate -L zsh
  typeset -g __vault_refresh_state=$1
  if [[ $1 == retry ]]; then
    local -i __vault_delay=${__vault_retry_delay:-0}
    ((__vault_delay = __vault_delay ? __vault_delay * 2 : 30))
    ((__vault_delay > 240)) && __vault_delay=240
    typeset -gi __vault_retry_delay=$__vault_delay __vault_retry_at=$((EPOCHSECONDS + __vault_delay))
  fi
  if [[ $2 != "${__vault_last_warning-}" ]]; then
    typeset -g __vault_last_warning=$2
    print -ru2 -- "$2"
  fi
  return 0
}

# Reads the background fetch's outcome (builtins only) and applies it from the cache.
__vault_collect() {
  emulate -L zsh
  setopt no_xtrace no_verbose
  local __vault_file=$__VAULT_STATUS_DIR/$$ __vault_seen='' __vault_kind='' __vault_message=''
  if [[ -r $__vault_file ]]; then
    { IFS=' ' read -r __vault_seen __vault_kind; IFS= read -r __vault_message; } <"$__vault_file"
  fi
  __vault_visible "$AWS_VAULT"
  if [[ $__vault_seen != "${__vault_attempt-}" ]]; then
    if ((EPOCHSECONDS - __vault_pending_since > 60)); then
      __vault_failed retry "vault: the background refresh of $REPLY did not finish; vault tries again"
    fi
    return 0
  fi
  case $__vault_kind in
    ok)
      local __vault_code __vault_status=0
      __vault_code="$(__VAULT_SHELL=zsh "$__VAULT_EXE" refresh --from-cache 2>/dev/null)" || __vault_status=$?
      if ((__vault_status == 0)) && { [[ -z $__vault_code ]] || eval "$__vault_code"; }; then
        __vault_reset
      else
        __vault_failed retry "vault: the credentials of $REPLY were fetched but could not be applied; vault tries again in the background"
      fi
      ;;
    retry) __vault_failed retry "$__vault_message" ;;
    *) __vault_failed needs "$__vault_message" ;;
  esac
  return 0
}

# Before each command and prompt: inside the refresh window, start, collect or retry the
# background fetch. Outside it, this reads two variables and starts nothing.
__vault_tick() {
  emulate -L zsh
  if [[ -n ${AWS_VAULT-} && -n ${VAULT_AGENT_PID-} ]]; then
    __vault_agent_tick
    return 0
  fi
  if [[ -z ${AWS_VAULT-} ]] || ! __vault_int "${VAULT_REFRESH_AT-}" ||
    ((EPOCHSECONDS < VAULT_REFRESH_AT)); then
    return 0
  fi
  if [[ ${__vault_refresh_state-} == pending ]]; then
    __vault_collect
    return 0
  fi
  # Expired credentials are not retried: the segment says so, and `vault refresh` asks.
  if __vault_int "${VAULT_EXPIRES_AT-}" && ((EPOCHSECONDS >= VAULT_EXPIRES_AT)); then
    return 0
  fi
  case ${__vault_refresh_state-} in
    needs) ;;
    retry) ((EPOCHSECONDS >= ${__vault_retry_at:-0})) && __vault_launch ;;
    *) __vault_launch ;;
  esac
  return 0
}

__vault_preexec() {
  __vault_tick
}

# zsh keeps $? for the prompt across precmd; this always succeeds, so ERR_EXIT never fires.
__vault_precmd() {
  __vault_tick
  __vault_update
  return 0
}

# The prompt function for frameworks that call one (it prints the segment).
__vault_prompt() {
  __vault_update
  print -rn -- "$VAULT_SEGMENT"
}

autoload -Uz add-zsh-hook
add-zsh-hook preexec __vault_preexec
add-zsh-hook precmd __vault_precmd
__vault_reset
__vault_update

# Tab completion: `vault hook zsh` puts `vault completion zsh` here. compdef exists only after
# compinit: register now if it is there, else at the first prompt after it appears.
__vault_register_completion() {
  (( ${+functions[compdef]} )) || return 0
__VAULT_COMPLETION__
  add-zsh-hook -d precmd __vault_register_completion
}
if (( ${+functions[compdef]} )); then
  __vault_register_completion
else
  add-zsh-hook precmd __vault_register_completion
fi
