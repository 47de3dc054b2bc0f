# vault: tab completion for zsh after `--` (`vault exec p -- CMD ARGS`): the words there are
# another command's, so zsh's own completion takes over, as with aws-vault; before it, clap's
# function asks vault for the candidates. `vault completion zsh` is clap_complete's
# registration with its compdef line replaced by this file, and `vault hook zsh` includes it.
# zsh, which ShellCheck and shfmt cannot read: tests/shell_lint.rs checks it with `zsh -n`.
function __vault_complete() {
  local __vault_i
  for ((__vault_i = 2; __vault_i < CURRENT; __vault_i++)); do
    if [[ ${words[__vault_i]} == -- ]]; then
      shift $__vault_i words
      ((CURRENT -= __vault_i))
      _normal
      return
    fi
  done
  _clap_dynamic_completer_vault
}
compdef __vault_complete vault
