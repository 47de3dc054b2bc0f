# vault: shell integration for fish. Load it from ~/.config/fish/config.fish:
#   vault hook fish | source
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this shell),
# keeps VAULT_SEGMENT current before each prompt (call __vault_prompt from fish_prompt), and
# renews credentials inside their refresh window: a background fetch fills the session cache,
# and the next prompt or command applies it, so nothing waits on STS. Loading it twice is
# harmless.

set -g __VAULT_EXE __VAULT_EXE_QUOTED__
set -g __VAULT_STATUS_DIR __VAULT_STATUS_DIR_QUOTED__

function vault --description 'vault: AWS credentials, with use/unuse/refresh applied to this shell'
    switch "$argv[1]"
        case use unuse refresh
            # Credentials must never reach a trace.
            set -l fish_trace
            set -lx __VAULT_SHELL fish
            set -lx __VAULT_SHELL_PID $fish_pid
            set -l __vault_code ($__VAULT_EXE $argv)
            set -l __vault_status $status
            if test $__vault_status -eq 0; and test (count $__vault_code) -gt 0
                # `true` last: source returns the status of the code's last line, and the
                # code may end by removing a variable that was not set.
                if not printf '%s\n' $__vault_code true | source
                    printf '%s\n' "vault: this shell could not apply what `vault $argv[1]` printed; check the AWS_ variables with: env" >&2
                    set __vault_status 1
                end
                __vault_reset
            end
            __vault_update
            return $__vault_status
        case doctor
            # doctor cannot see this shell: it learns from these, for this one run, that the
            # hook is loaded, which version wrote it, and whether completion is registered.
            set -l __vault_completion missing
            if complete --command vault | string length --quiet
                set __vault_completion registered
            end
            __VAULT_SHELL=fish __VAULT_HOOK_VERSION=__VAULT_VERSION_QUOTED__ __VAULT_COMPLETION=$__vault_completion $__VAULT_EXE $argv
        case '*'
            $__VAULT_EXE $argv
    end
end

# fish has no clock variable. /proc/uptime read by a builtin plus the boot time `use` recorded
# (VAULT_CLOCK_BOOT) gives the time with no process started; without /proc (macOS), `date`.
function __vault_now
    if string match -qr -- '^[0-9]+$' "$VAULT_CLOCK_BOOT"; and read -l __vault_up __vault_idle </proc/uptime 2>/dev/null
        # Whole seconds of uptime, as the boot time was computed.
        set -l __vault_whole (string split -m1 . -- $__vault_up)[1]
        set -g __vault_clock (math --scale=0 "$VAULT_CLOCK_BOOT + $__vault_whole")
    else
        set -g __vault_clock (date +%s)
    end
end

# __vault_shown: $argv[1] with control characters written as \xHH, so a profile name cannot
# drive the terminal.
function __vault_visible
    set -g __vault_shown $argv[1]
    string match -qr -- '[\x00-\x1f\x7f\x{80}-\x{9f}]' $argv[1]; or return 0
    set __vault_shown ''
    for __vault_c in (string split -- '' $argv[1])
        if string match -qr -- '^[\x00-\x1f\x7f\x{80}-\x{9f}]$' $__vault_c
            set __vault_shown $__vault_shown(printf '\\\\x%02x' "'$__vault_c")
        else
            set __vault_shown $__vault_shown$__vault_c
        end
    end
end

# VAULT_SEGMENT: "prod 42m", "prod 1h05m", "prod 59s", "prod expired", or empty; "!" after
# the time when a refresh needs the user, "~" while a failed one is being retried.
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
    if set -q VAULT_AGENT_PID; and test -n "$VAULT_AGENT_PID"
        # `use --agent`: the agent renews; the segment says it serves, or that it needs the user.
        if __vault_agent_gone
            set __vault_left 'agent gone'
        else if test -n "$VAULT_AGENT_STAMP"; and test -e "$VAULT_AGENT_STAMP"
            set __vault_left 'agent!'
        else
            set __vault_left agent
        end
    else if string match -qr -- '^[0-9]+$' "$VAULT_EXPIRES_AT"
        __vault_now
        set -l __vault_secs (math --scale=0 "$VAULT_EXPIRES_AT - $__vault_clock")
        if test $__vault_secs -le 0
            set __vault_left expired
        else
            if test $__vault_secs -lt 60
                set __vault_left {$__vault_secs}s
            else if test $__vault_secs -lt 3600
                set __vault_left (math --scale=0 "floor($__vault_secs / 60)")m
            else
                set __vault_left (printf '%dh%02dm' (math --scale=0 "floor($__vault_secs / 3600)") (math --scale=0 "floor($__vault_secs % 3600 / 60)"))
            end
            switch "$__vault_refresh_state"
                case needs
                    set __vault_left "$__vault_left!"
                case retry
                    set __vault_left "$__vault_left~"
            end
        end
    end
    __vault_visible $AWS_VAULT
    set __vault_text (string replace --all -- '%t' $__vault_left $__vault_text)
    set __vault_text (string replace --all -- '%p' $__vault_shown $__vault_text)
    set -g VAULT_SEGMENT (string trim -- $__vault_text)
end

# Whether the agent serving this shell has exited or is leaving: its process is gone (a look at
# /proc), or its socket is (it removes that first when stopped).
function __vault_agent_gone
    if test -n "$VAULT_AGENT_STAMP"; and not test -S (string replace -r -- '/needs/[^/]*$' '' "$VAULT_AGENT_STAMP")/agent.sock
        return 0
    end
    string match -qr -- '^[0-9]+$' "$VAULT_AGENT_PID"; and test -d /proc/self; and not test -e /proc/$VAULT_AGENT_PID
end

# `use --agent`, before each command and prompt, with builtins only: when the agent is gone
# (killed: its socket is left) or this shell's token is not its own (a nested shell inherits
# its parent's), get a token of its own without asking anything, once; when the agent was
# stopped on purpose (no socket), only say so. Say once when a renewal needs the user.
function __vault_agent_tick
    set -l fish_trace
    __vault_visible $AWS_VAULT
    set -l __vault_token "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    set -l __vault_case ''
    if __vault_agent_gone
        set __vault_case stopped
        if test -S (string replace -r -- '/needs/[^/]*$' '' "$VAULT_AGENT_STAMP")/agent.sock
            set __vault_case killed
        end
    else if not test -e "$__vault_token"; or not string match -q -- "$fish_pid-*" (string replace -r -- '^.*/' '' "$__vault_token")
        set __vault_case foreign
    end
    if test -n "$__vault_case"
        test "$__vault_agent_seen" = "$VAULT_AGENT_PID:$__vault_token"; and return 0
        set -g __vault_agent_seen "$VAULT_AGENT_PID:$__vault_token"
        if test $__vault_case = stopped
            printf '%s\n' "vault: the agent serving $__vault_shown was stopped, so commands here get no credentials; run: vault use --agent $__vault_shown, or vault unuse" >&2
            return 0
        end
        set -l __vault_code (__VAULT_SHELL=fish __VAULT_SHELL_PID=$fish_pid $__VAULT_EXE refresh --if-needed 2>/dev/null)
        if test $status -eq 0; and test (count $__vault_code) -gt 0; and printf '%s\n' $__vault_code true | source
            if test $__vault_case = killed
                printf '%s\n' "vault: the agent serving $__vault_shown had stopped (killed?); vault started it again" >&2
            end
        else if test $__vault_case = killed
            printf '%s\n' "vault: the agent serving $__vault_shown has stopped (killed?), so commands here get no credentials; run: vault refresh" >&2
        else
            printf '%s\n' "vault: this shell has no agent token of its own for $__vault_shown; run: vault refresh" >&2
        end
        return 0
    end
    if test -n "$VAULT_AGENT_STAMP"; and test -e "$VAULT_AGENT_STAMP"
        test "$__vault_agent_noted" = 1; and return 0
        set -g __vault_agent_noted 1
        set -l __vault_why ''
        read -l __vault_why <"$VAULT_AGENT_STAMP" 2>/dev/null
        printf '%s\n' "vault: the agent cannot renew the credentials of $__vault_shown: $__vault_why; run: vault refresh" >&2
    else
        set -g __vault_agent_noted ''
    end
    return 0
end

# A refresh worked, or the user ran use/unuse/refresh: forget earlier failures.
function __vault_reset
    set -g __vault_refresh_state ''
    set -g __vault_agent_seen ''
    set -g __vault_agent_noted ''
    set -g __vault_last_warning ''
    set -g __vault_retry_delay 0
end

# Starts the one background fetch of this attempt; the next prompt or command collects it.
function __vault_launch
    set -q __vault_attempt; or set -g __vault_attempt 0
    set -g __vault_attempt (math $__vault_attempt + 1)
    set -g __vault_pending_since $__vault_clock
    set -g __vault_refresh_state pending
    $__VAULT_EXE refresh --background --attempt $__vault_attempt --status-file "$__VAULT_STATUS_DIR/$fish_pid" </dev/null >/dev/null 2>&1 &
    disown $last_pid 2>/dev/null
end

# $argv[1] retry or needs, $argv[2] the warning, shown once until it changes.
function __vault_failed
    set -g __vault_refresh_state $argv[1]
    if test "$argv[1]" = retry
        set -l __vault_delay 30
        if test "$__vault_retry_delay" -gt 0 2>/dev/null
            set __vault_delay (math "min(240, $__vault_retry_delay * 2)")
        end
        set -g __vault_retry_delay $__vault_delay
        set -g __vault_retry_at (math $__vault_clock + $__vault_delay)
    end
    if test "$argv[2]" != "$__vault_last_warning"
        set -g __vault_last_warning $argv[2]
        printf '%s\n' $argv[2] >&2
    end
end

# Reads the background fetch's outcome (builtins only) and applies it from the cache.
function __vault_collect
    set -l __vault_file "$__VAULT_STATUS_DIR/$fish_pid"
    set -l __vault_lines
    if test -r $__vault_file
        while read -l __vault_line
            set -a __vault_lines $__vault_line
        end <$__vault_file
    end
    set -l __vault_head (string split -m1 ' ' -- "$__vault_lines[1]")
    __vault_visible $AWS_VAULT
    if test "$__vault_head[1]" != "$__vault_attempt"
        if test (math $__vault_clock - $__vault_pending_since) -gt 60
            __vault_failed retry "vault: the background refresh of $__vault_shown did not finish; vault tries again"
        end
        return 0
    end
    switch "$__vault_head[2]"
        case ok
            set -l fish_trace
            set -lx __VAULT_SHELL fish
            set -l __vault_code ($__VAULT_EXE refresh --from-cache 2>/dev/null)
            set -l __vault_status $status
            if test $__vault_status -eq 0
                and begin
                    test (count $__vault_code) -eq 0; or printf '%s\n' $__vault_code true | source
                end
                __vault_reset
            else
                __vault_failed retry "vault: the credentials of $__vault_shown were fetched but could not be applied; vault tries again in the background"
            end
        case retry
            __vault_failed retry "$__vault_lines[2]"
        case '*'
            __vault_failed needs "$__vault_lines[2]"
    end
end

# Before each command and prompt: inside the refresh window, start, collect or retry the
# background fetch. Outside it, this reads variables and starts nothing.
function __vault_tick
    set -q AWS_VAULT; or return 0
    if set -q VAULT_AGENT_PID; and test -n "$VAULT_AGENT_PID"
        __vault_agent_tick
        return 0
    end
    string match -qr -- '^[0-9]+$' "$VAULT_REFRESH_AT"; or return 0
    __vault_now
    test $__vault_clock -ge $VAULT_REFRESH_AT; or return 0
    if test "$__vault_refresh_state" = pending
        __vault_collect
        return 0
    end
    # Expired credentials are not retried: the segment says so, and `vault refresh` asks.
    if string match -qr -- '^[0-9]+$' "$VAULT_EXPIRES_AT"; and test $__vault_clock -ge $VAULT_EXPIRES_AT
        return 0
    end
    switch "$__vault_refresh_state"
        case needs
        case retry
            if test $__vault_clock -ge "$__vault_retry_at"
                __vault_launch
            end
        case '*'
            __vault_launch
    end
end

function __vault_preexec --on-event fish_preexec
    __vault_tick
end

function __vault_on_prompt --on-event fish_prompt
    __vault_tick
    __vault_update
end

# The prompt function: call it from fish_prompt (it prints the segment).
function __vault_prompt
    __vault_update
    printf '%s' $VAULT_SEGMENT
end

__vault_reset
__vault_update

# Tab completion: `vault hook fish` puts `vault completion fish` (shell/complete.fish) here.
__VAULT_COMPLETION__
