
_clap_complete_vault() {
    local IFS=$'\013'
    local _CLAP_COMPLETE_INDEX=${COMP_CWORD}
    local _CLAP_COMPLETE_COMP_TYPE=${COMP_TYPE}
    if compopt +o nospace 2> /dev/null; then
        local _CLAP_COMPLETE_SPACE=false
    else
        local _CLAP_COMPLETE_SPACE=true
    fi
    local words=("${COMP_WORDS[@]}")
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        words[COMP_CWORD]="$2"
    fi
    COMPREPLY=( $( \
        _CLAP_IFS="$IFS" \
        _CLAP_COMPLETE_INDEX="$_CLAP_COMPLETE_INDEX" \
        _CLAP_COMPLETE_COMP_TYPE="$_CLAP_COMPLETE_COMP_TYPE" \
        _CLAP_COMPLETE_SPACE="$_CLAP_COMPLETE_SPACE" \
        VAULT_COMPLETE="bash" \
        "vault" -- "${words[@]}" \
    ) )
    if [[ $? != 0 ]]; then
        unset COMPREPLY
    elif [[ $_CLAP_COMPLETE_SPACE == false ]] && [[ "${COMPREPLY-}" =~ [=/:]$ ]]; then
        compopt -o nospace
    fi
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_vault vault
else
    complete -o nospace -o bashdefault -F _clap_complete_vault vault
fi


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
    local __vault_line=${COMP_LINE:0:COMP_POINT} __vault_pos=0 __vault_end=-1 __vault_i __vault_w
    local -a __vault_words=()
    local __vault_cword=0
    for __vault_i in "${!COMP_WORDS[@]}"; do
        __vault_w=${COMP_WORDS[__vault_i]}
        local __vault_rest=${__vault_line:__vault_pos}
        local __vault_before=${__vault_rest%%"$__vault_w"*}
        local __vault_start=$((__vault_pos + ${#__vault_before}))
        # An empty word is the one at the cursor.
        if [[ -z $__vault_w ]]; then __vault_start=${#__vault_line}; fi
        if ((__vault_i > 0 && __vault_start == __vault_end && ${#__vault_words[@]} > 0)); then
            __vault_words[-1]+=$__vault_w
        else
            __vault_words+=("$__vault_w")
        fi
        __vault_end=$((__vault_start + ${#__vault_w}))
        __vault_pos=$__vault_end
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
    local COMP_CWORD=$__vault_cword
    _clap_complete_vault "$1" "$__vault_joined" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
    for __vault_i in "${!COMPREPLY[@]}"; do
        __vault_w=${COMPREPLY[__vault_i]}
        if ((__vault_cut > 0)) && [[ $__vault_w == "${__vault_joined:0:__vault_cut}"* ]]; then
            __vault_w=${__vault_w:__vault_cut}
        fi
        if [[ -n $__vault_quoted ]]; then
            COMPREPLY[__vault_i]=$__vault_w
        else
            printf -v 'COMPREPLY[__vault_i]' '%q' "$__vault_w"
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
    local __vault_word=${COMP_WORDS[COMP_CWORD]} __vault_line
    COMPREPLY=()
    set +f
    if ((COMP_CWORD == $1)); then
        while IFS= read -r __vault_line; do COMPREPLY+=("$__vault_line"); done < <(compgen -c -- "$__vault_word")
    else
        compopt -o filenames 2>/dev/null
        while IFS= read -r __vault_line; do COMPREPLY+=("$__vault_line"); done < <(compgen -f -- "$__vault_word")
    fi
}
complete -o nospace -o bashdefault -o nosort -F __vault_complete_quoted vault
