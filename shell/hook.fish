# vault: shell integration for fish. Load it from ~/.config/fish/config.fish:
#   vault hook fish | source
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (call __vault_prompt from fish_prompt), and
# refreshes credentials inside their refresh window before each command. Loading it twice is
# harmless.

set -g __VAULT_EXE __VAULT_EXE_QUOTED__

function vault --description 'vault: AWS credentials, with use/unuse/refresh applied to this shell'
    switch "$argv[1]"
        case use unuse refresh
            # Credentials must never reach a trace.
            set -l fish_trace
            set -lx __VAULT_SHELL fish
            set -l __vault_code ($__VAULT_EXE $argv)
            set -l __vault_status $status
            if test $__vault_status -eq 0; and test (count $__vault_code) -gt 0
                printf '%s\n' $__vault_code | source
                set -g __vault_refresh_failed
            end
            __vault_update
            return $__vault_status
        case '*'
            $__VAULT_EXE $argv
    end
end

# fish has no clock variable. /proc/uptime read by a builtin plus the boot time `use` recorded
# (VAULT_CLOCK_BOOT) gives the time with no process started; without /proc (macOS), `date`.
function __vault_now
    set -l __vault_offset 0
    if string match -qr -- '^-?[0-9]+$' "$VAULT_CLOCK_OFFSET"
        set __vault_offset $VAULT_CLOCK_OFFSET
    end
    if string match -qr -- '^[0-9]+$' "$VAULT_CLOCK_BOOT"; and read -l __vault_up __vault_idle </proc/uptime 2>/dev/null
        # Whole seconds of uptime, as the boot time was computed.
        set -l __vault_whole (string split -m1 . -- $__vault_up)[1]
        set -g __vault_clock (math --scale=0 "$VAULT_CLOCK_BOOT + $__vault_whole + $__vault_offset")
    else
        set -g __vault_clock (math --scale=0 (date +%s)" + $__vault_offset")
    end
end

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty.
function __vault_update
    if not set -q AWS_VAULT; or test -z "$AWS_VAULT"
        set -g VAULT_SEGMENT ''
        return 0
    end
    set -l __vault_left ''
    set -l __vault_text '%p %t'
    if set -q AWS_VAULT_PROMPT_FORMAT; and test -n "$AWS_VAULT_PROMPT_FORMAT"
        set __vault_text $AWS_VAULT_PROMPT_FORMAT
    end
    if string match -qr -- '^[0-9]+$' "$VAULT_EXPIRES_AT"
        __vault_now
        set -l __vault_secs (math --scale=0 "$VAULT_EXPIRES_AT - $__vault_clock")
        if test $__vault_secs -le 0
            set __vault_left expired
        else if test $__vault_secs -lt 60
            set __vault_left {$__vault_secs}s
        else if test $__vault_secs -lt 3600
            set __vault_left (math --scale=0 "floor($__vault_secs / 60)")m
        else
            set __vault_left (printf '%dh%02dm' (math --scale=0 "floor($__vault_secs / 3600)") (math --scale=0 "floor($__vault_secs % 3600 / 60)"))
        end
        if test -n "$__vault_refresh_failed"
            set __vault_left "$__vault_left!"
        end
    end
    set __vault_text (string replace --all -- '%t' $__vault_left $__vault_text)
    set __vault_text (string replace --all -- '%p' $AWS_VAULT $__vault_text)
    set -g VAULT_SEGMENT (string trim -- $__vault_text)
end

function __vault_preexec --on-event fish_preexec
    if set -q AWS_VAULT; and string match -qr -- '^[0-9]+$' "$VAULT_REFRESH_AT"; and test -z "$__vault_refresh_failed"
        __vault_now
        if test $__vault_clock -ge $VAULT_REFRESH_AT
            if not vault refresh --if-needed 2>/dev/null
                set -g __vault_refresh_failed 1
                printf '%s\n' "vault: the credentials of $AWS_VAULT expire soon and could not be refreshed without asking; run: vault refresh" >&2
            end
        end
    end
end

function __vault_on_prompt --on-event fish_prompt
    __vault_update
end

# The prompt function: call it from fish_prompt (it prints the segment).
function __vault_prompt
    __vault_update
    printf '%s' $VAULT_SEGMENT
end

set -q __vault_refresh_failed; or set -g __vault_refresh_failed ''
__vault_update
