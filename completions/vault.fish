complete --keep-order --exclusive --command vault --condition 'not __vault_after_dashes' --arguments "(VAULT_COMPLETE=fish vault -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
function __vault_after_dashes
    contains -- -- (commandline --current-process --tokenize --cut-at-cursor)
end
function __vault_complete_command
    set -l __vault_words (commandline --current-process --tokenize --cut-at-cursor)
    set -l __vault_at (contains --index -- -- $__vault_words)
    set -l __vault_rest (string escape -- $__vault_words[(math $__vault_at + 1)..-1])
    complete --do-complete (string join ' ' -- $__vault_rest (commandline --current-token))
end
complete --command vault --condition __vault_after_dashes --no-files --arguments '(__vault_complete_command)'
