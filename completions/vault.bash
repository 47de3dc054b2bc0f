# shellcheck shell=bash
# vault: tab completion for bash. `vault hook bash` includes it; without the hook, load it with
#   source <(vault completion bash)
# or install the copy in completions/. Candidates come from vault itself; each is quoted for the
# command line, and after `--` (`vault exec p -- CMD ARGS`) the words are another command's, so
# bash's own command and file completion takes over, as with aws-vault.

# Asks the completer (vault) for the candidates of the word at the cursor ($2), in
# clap_complete's bash protocol (clap_complete::env::Bash, pinned in Cargo.toml): the words,
# the index of the one at the cursor, and candidates back separated by \v. clap_complete writes
# the same function; this one is ours so that it passes shellcheck and shfmt, and a unit test
# checks that it still passes every variable clap's does. A failure leaves COMPREPLY unset.
__vault_complete_clap() {
  local __vault_space=true __vault_out='' __vault_status=0 __vault_sep=$'\v'
  # As clap's: inside a completion function this turns nospace off (compopt fails outside one),
  # and a candidate ending in =, / or : turns it back on below.
  if compopt +o nospace 2>/dev/null; then __vault_space=false; fi
  local -a __vault_args=("${COMP_WORDS[@]}")
  __vault_args[COMP_CWORD]=$2
  __vault_out=$(
    _CLAP_IFS=${__vault_sep} \
      _CLAP_COMPLETE_INDEX=${COMP_CWORD} \
      _CLAP_COMPLETE_COMP_TYPE=${COMP_TYPE-} \
      _CLAP_COMPLETE_SPACE=${__vault_space} \
      VAULT_COMPLETE=bash \
      vault -- "${__vault_args[@]}"
  ) || __vault_status=$?
  if ((__vault_status != 0)); then
    unset COMPREPLY
    return 0
  fi
  # Split at \v without word splitting, so no candidate is globbed.
  COMPREPLY=()
  local __vault_rest=${__vault_out}
  while [[ -n ${__vault_rest} ]]; do
    COMPREPLY+=("${__vault_rest%%"${__vault_sep}"*}")
    if [[ ${__vault_rest} != *"${__vault_sep}"* ]]; then break; fi
    __vault_rest=${__vault_rest#*"${__vault_sep}"}
  done
  if [[ ${__vault_space} == false && ${COMPREPLY[0]-} =~ [=/:]$ ]]; then
    compopt -o nospace
  fi
  return 0
}

__vault_complete_quoted() {
  # No globbing of candidates (a profile named * would become file names), and no stderr
  # on the command line.
  local -
  set -f
  local __vault_i
  for ((__vault_i = 1; __vault_i < COMP_CWORD; __vault_i++)); do
    if [[ ${COMP_WORDS[__vault_i]} == -- ]]; then
      __vault_complete_command $((__vault_i + 1))
      return 0
    fi
  done
  # bash splits words at = and : (COMP_WORDBREAKS): join the pieces typed without a space
  # between them, so vault sees `--region=eu-` whole, then answer for bash's last piece.
  local __vault_line=${COMP_LINE:0:COMP_POINT} __vault_pos=0 __vault_end=-1 __vault_w
  local -a __vault_words=()
  local __vault_cword=0
  for __vault_i in "${!COMP_WORDS[@]}"; do
    __vault_w=${COMP_WORDS[__vault_i]}
    local __vault_rest=${__vault_line:__vault_pos}
    local __vault_before=${__vault_rest%%"${__vault_w}"*}
    local __vault_start=$((__vault_pos + ${#__vault_before}))
    # An empty word is the one at the cursor.
    if [[ -z ${__vault_w} ]]; then __vault_start=${#__vault_line}; fi
    if ((__vault_i > 0 && __vault_start == __vault_end && ${#__vault_words[@]} > 0)); then
      __vault_words[-1]+=${__vault_w}
    else
      __vault_words+=("${__vault_w}")
    fi
    __vault_end=$((__vault_start + ${#__vault_w}))
    __vault_pos=${__vault_end}
    if ((__vault_i == COMP_CWORD)); then __vault_cword=$((${#__vault_words[@]} - 1)); fi
  done
  local __vault_joined=${__vault_words[__vault_cword]}
  local __vault_cut=$((${#__vault_joined} - ${#COMP_WORDS[COMP_CWORD]}))
  # vault is asked about the word as it will read: after an opening quote readline quotes the
  # answer itself; otherwise backslash escapes are undone here and redone below.
  local __vault_quoted=''
  case ${COMP_WORDS[COMP_CWORD]} in
    \'* | \"*)
      __vault_quoted=1
      __vault_joined=${__vault_joined:0:__vault_cut}${__vault_joined:__vault_cut+1}
      ;;
    *) __vault_joined=${__vault_joined//\\/} ;;
  esac
  local -a COMP_WORDS=("${__vault_words[@]}")
  local COMP_CWORD=${__vault_cword}
  __vault_complete_clap "$1" "${__vault_joined}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
  for __vault_i in "${!COMPREPLY[@]}"; do
    __vault_w=${COMPREPLY[__vault_i]}
    if ((__vault_cut > 0)) && [[ ${__vault_w} == "${__vault_joined:0:__vault_cut}"* ]]; then
      __vault_w=${__vault_w:__vault_cut}
    fi
    if [[ -n ${__vault_quoted} ]]; then
      COMPREPLY[__vault_i]=${__vault_w}
    else
      printf -v 'COMPREPLY[__vault_i]' '%q' "${__vault_w}"
    fi
  done
}

# The command after `--`: bash-completion's own hand-over where it is loaded, else commands
# for the first word and files after it.
__vault_complete_command() {
  if declare -F _command_offset >/dev/null; then
    _command_offset "$1"
    return 0
  fi
  local __vault_word=${COMP_WORDS[COMP_CWORD]}
  set +f
  # compgen fails when nothing matches: that is an empty answer, not an error.
  if ((COMP_CWORD == $1)); then
    mapfile -t COMPREPLY < <(compgen -c -- "${__vault_word}" || true)
  else
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "${__vault_word}" || true)
  fi
}

complete -o nospace -o bashdefault -o nosort -F __vault_complete_quoted vault
