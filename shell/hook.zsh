# vault: shell integration for zsh. Load it from ~/.zshrc:
#   eval "$(vault hook zsh)"
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (setopt PROMPT_SUBST and put ${VAULT_SEGMENT}
# in PROMPT), and refreshes credentials inside their refresh window before each command.
# Loading it twice is harmless.

zmodload zsh/datetime 2>/dev/null
__VAULT_EXE=__VAULT_EXE_QUOTED__

vault() {
  case "${1-}" in
    use | unuse | refresh)
      # Credentials must never reach a trace: xtrace and verbose stay off while they are applied.
      setopt local_options no_xtrace no_verbose
      local __vault_code __vault_status=0
      __vault_code="$(__VAULT_SHELL=zsh "$__VAULT_EXE" "$@")" || __vault_status=$?
      if [[ $__vault_status -eq 0 && -n $__vault_code ]]; then
        eval "$__vault_code"
        typeset -g __vault_refresh_failed=
      fi
      __vault_update
      return $__vault_status
      ;;
    *)
      "$__VAULT_EXE" "$@"
      ;;
  esac
}

# VAULT_CLOCK_OFFSET when it is a whole number (tests move the clock with it), else 0.
__vault_offset() {
  typeset -g __vault_offset_value=0
  if [[ ${VAULT_CLOCK_OFFSET-} == (|-)<-> ]]; then
    __vault_offset_value=$VAULT_CLOCK_OFFSET
  fi
}

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty.
__vault_update() {
  if [[ -z ${AWS_VAULT-} ]]; then
    typeset -g VAULT_SEGMENT=
    return 0
  fi
  local __vault_left='' __vault_text=${AWS_VAULT_PROMPT_FORMAT:-%p %t}
  if [[ ${VAULT_EXPIRES_AT-} == <-> ]]; then
    __vault_offset
    local -i __vault_secs=$((VAULT_EXPIRES_AT - EPOCHSECONDS - __vault_offset_value))
    if ((__vault_secs <= 0)); then
      __vault_left=expired
    elif ((__vault_secs < 60)); then
      __vault_left=${__vault_secs}s
    elif ((__vault_secs < 3600)); then
      __vault_left=$((__vault_secs / 60))m
    else
      printf -v __vault_left '%dh%02dm' $((__vault_secs / 3600)) $((__vault_secs % 3600 / 60))
    fi
    [[ -n ${__vault_refresh_failed-} ]] && __vault_left="$__vault_left!"
  fi
  __vault_text=${__vault_text//\%t/$__vault_left}
  __vault_text=${__vault_text//\%p/$AWS_VAULT}
  __vault_text=${__vault_text#"${__vault_text%%[![:space:]]*}"}
  typeset -g VAULT_SEGMENT=${__vault_text%"${__vault_text##*[![:space:]]}"}
}

# Before each command: refresh inside the window, never prompting. Values from the
# environment are checked to be numbers before arithmetic, which would run what they hold.
__vault_preexec() {
  __vault_offset
  if [[ -n ${AWS_VAULT-} && ${VAULT_REFRESH_AT-} == <-> && -z ${__vault_refresh_failed-} ]] &&
    ((EPOCHSECONDS + ${__vault_offset_value:-0} >= VAULT_REFRESH_AT)); then
    if ! vault refresh --if-needed 2>/dev/null; then
      typeset -g __vault_refresh_failed=1
      print -ru2 -- "vault: the credentials of $AWS_VAULT expire soon and could not be refreshed without asking; run: vault refresh"
    fi
  fi
}

# zsh keeps $? for the prompt across precmd; this always succeeds, so ERR_EXIT never fires.
__vault_precmd() {
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
__vault_update
