# vault: tab completion for fish. `vault hook fish` includes it; without the hook, load it with
#   vault completion fish | source
# or install the copy in completions/. Candidates come from vault itself, with descriptions;
# after `--` (`vault exec p -- CMD ARGS`) the words are another command's, so fish's own
# completion takes over, as with aws-vault.

# Asks the completer (vault) for candidates in clap_complete's fish protocol
# (clap_complete::env::Fish, pinned in Cargo.toml): the words up to the cursor, then the word
# at it. A unit test checks that clap's own registration asks the same way.
function __vault_complete_clap
    VAULT_COMPLETE=fish __VAULT_COMPLETER_QUOTED__ -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token)
end

function __vault_after_dashes
    contains -- -- (commandline --current-process --tokenize --cut-at-cursor)
end

function __vault_complete_command
    set -l __vault_words (commandline --current-process --tokenize --cut-at-cursor)
    set -l __vault_at (contains --index -- -- $__vault_words)
    set -l __vault_rest (string escape -- $__vault_words[(math $__vault_at + 1)..-1])
    complete --do-complete (string join ' ' -- $__vault_rest (commandline --current-token))
end

complete --keep-order --exclusive --command vault --condition 'not __vault_after_dashes' --arguments '(__vault_complete_clap)'
complete --command vault --condition __vault_after_dashes --no-files --arguments '(__vault_complete_command)'
