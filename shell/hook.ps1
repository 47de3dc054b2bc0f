# vault: shell integration for PowerShell. Load it from $PROFILE:
#   Invoke-Expression (& vault hook pwsh | Out-String)
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this session),
# wraps the prompt to keep $global:VAULT_SEGMENT current, and refreshes credentials inside their
# refresh window. Loading it twice is harmless.

$global:__VAULT_EXE = __VAULT_EXE_QUOTED__
$global:__VAULT_STATUS_DIR = __VAULT_STATUS_DIR_QUOTED__

function global:vault {
    if ($args.Count -gt 0 -and @('use', 'unuse', 'refresh') -contains $args[0]) {
        # Credentials must never reach a trace.
        Set-PSDebug -Off
        $env:__VAULT_SHELL = 'pwsh'
        $env:__VAULT_SHELL_PID = [string]$PID
        try {
            $__vault_code = & $global:__VAULT_EXE @args | Out-String
            $__vault_status = $LASTEXITCODE
        } finally {
            Remove-Item -Path Env:__VAULT_SHELL -ErrorAction SilentlyContinue
            Remove-Item -Path Env:__VAULT_SHELL_PID -ErrorAction SilentlyContinue
        }
        if ($__vault_status -eq 0 -and $__vault_code) {
            try {
                Invoke-Expression $__vault_code
            } catch {
                [Console]::Error.WriteLine("vault: this session could not apply what ``vault $($args[0])`` printed: $_")
                $__vault_status = 1
            }
            __vault_reset
        }
        __vault_update
        $global:LASTEXITCODE = $__vault_status
    } else {
        & $global:__VAULT_EXE @args
    }
}

function global:__vault_visible([string]$text) {
    # Control characters as \xHH, so a profile name cannot drive the terminal.
    [regex]::Replace($text, '[\x00-\x1f\x7f-\x9f]', { param($m) '\x{0:x2}' -f [int][char]$m.Value })
}

function global:__vault_update {
    if (-not $env:AWS_VAULT) {
        $global:VAULT_SEGMENT = ''
        return
    }
    $left = ''
    $text = if ($env:AWS_VAULT_PROMPT_FORMAT) { $env:AWS_VAULT_PROMPT_FORMAT } else { '%p %t' }
    if ($env:VAULT_AGENT_PID) {
        # `use --agent`: the agent renews; the segment says it serves, or that it needs the user.
        $socket = if ($env:VAULT_AGENT_STAMP) { Join-Path (Split-Path (Split-Path $env:VAULT_AGENT_STAMP)) 'agent.sock' } else { '' }
        if (($socket -and -not (Test-Path -LiteralPath $socket)) -or ((Test-Path -LiteralPath '/proc/self') -and -not (Test-Path -LiteralPath "/proc/$($env:VAULT_AGENT_PID)"))) { $left = 'agent gone' }
        elseif ($env:VAULT_AGENT_STAMP -and (Test-Path -LiteralPath $env:VAULT_AGENT_STAMP)) { $left = 'agent!' }
        else { $left = 'agent' }
    } elseif ($env:VAULT_EXPIRES_AT -match '^[0-9]+$') {
        $secs = [long]$env:VAULT_EXPIRES_AT - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
        if ($secs -le 0) { $left = 'expired' }
        else {
            if ($secs -lt 60) { $left = "${secs}s" }
            elseif ($secs -lt 3600) { $left = '{0}m' -f [math]::Floor($secs / 60) }
            else { $left = '{0}h{1:00}m' -f [math]::Floor($secs / 3600), [math]::Floor(($secs % 3600) / 60) }
            if ($global:__vault_refresh_state -eq 'needs') { $left = "$left!" }
            elseif ($global:__vault_refresh_state -eq 'retry') { $left = "$left~" }
        }
    }
    $text = $text.Replace('%t', $left).Replace('%p', (__vault_visible $env:AWS_VAULT))
    $global:VAULT_SEGMENT = $text.Trim()
}

function global:__vault_reset {
    $global:__vault_refresh_state = ''
    $global:__vault_last_warning = ''
    $global:__vault_retry_delay = 0
}

function global:__vault_failed([string]$kind, [string]$message) {
    $global:__vault_refresh_state = $kind
    if ($kind -eq 'retry') {
        $delay = if ($global:__vault_retry_delay -gt 0) { [math]::Min(240, $global:__vault_retry_delay * 2) } else { 30 }
        $global:__vault_retry_delay = $delay
        $global:__vault_retry_at = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + $delay
    }
    if ($message -ne $global:__vault_last_warning) {
        $global:__vault_last_warning = $message
        [Console]::Error.WriteLine($message)
    }
}

# Inside the refresh window: one background fetch into the session cache, collected (and
# applied from the cache) at a later prompt, so no prompt waits on STS.
function global:__vault_refresh_if_needed {
    if (-not $env:AWS_VAULT -or $env:VAULT_REFRESH_AT -notmatch '^[0-9]+$') { return }
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    if ($now -lt [long]$env:VAULT_REFRESH_AT) { return }
    $file = Join-Path $global:__VAULT_STATUS_DIR $PID
    if ($global:__vault_refresh_state -eq 'pending') {
        $lines = @(if (Test-Path -LiteralPath $file) { Get-Content -LiteralPath $file })
        $head = if ($lines.Count -gt 0) { $lines[0] -split ' ', 2 } else { @('', '') }
        if ($head[0] -ne [string]$global:__vault_attempt) {
            if ($now - $global:__vault_pending_since -gt 60) {
                __vault_failed 'retry' "vault: the background refresh of $(__vault_visible $env:AWS_VAULT) did not finish; vault tries again"
            }
            return
        }
        $message = if ($lines.Count -gt 1) { $lines[1] } else { '' }
        if ($head[1] -eq 'ok') {
            $env:__VAULT_SHELL = 'pwsh'
            try {
                $code = & $global:__VAULT_EXE refresh --from-cache 2>$null | Out-String
                $ok = $LASTEXITCODE -eq 0
            } finally {
                Remove-Item -Path Env:__VAULT_SHELL -ErrorAction SilentlyContinue
            }
            if ($ok) {
                if ($code) { Invoke-Expression $code }
                __vault_reset
            } else {
                __vault_failed 'retry' "vault: the credentials of $(__vault_visible $env:AWS_VAULT) were fetched but could not be applied; vault tries again in the background"
            }
        } elseif ($head[1] -eq 'retry') {
            __vault_failed 'retry' $message
        } else {
            __vault_failed 'needs' $message
        }
        return
    }
    if ($env:VAULT_EXPIRES_AT -match '^[0-9]+$' -and $now -ge [long]$env:VAULT_EXPIRES_AT) { return }
    if ($global:__vault_refresh_state -eq 'needs') { return }
    if ($global:__vault_refresh_state -eq 'retry' -and $now -lt $global:__vault_retry_at) { return }
    $global:__vault_attempt = [long]$global:__vault_attempt + 1
    $global:__vault_pending_since = $now
    $global:__vault_refresh_state = 'pending'
    $arguments = @('refresh', '--background', '--attempt', [string]$global:__vault_attempt, '--status-file', $file)
    $nowhere = if ($IsWindows) { 'NUL' } else { '/dev/null' }
    Start-Process -FilePath $global:__VAULT_EXE -ArgumentList $arguments -NoNewWindow -RedirectStandardError $nowhere | Out-Null
}

# The prompt function for frameworks that call one (it returns the segment).
function global:__vault_prompt {
    __vault_update
    $global:VAULT_SEGMENT
}

if (-not $global:__vault_original_prompt) {
    $global:__vault_original_prompt = $function:prompt
    # Wraps the prompt that exists now: define your own prompt before loading the hook.
    function global:prompt {
        $__vault_exit = $global:LASTEXITCODE
        __vault_refresh_if_needed
        __vault_update
        $global:LASTEXITCODE = $__vault_exit
        & $global:__vault_original_prompt
    }
}
__vault_reset
__vault_update

# Tab completion: `vault hook pwsh` puts `vault completion pwsh` (clap_complete's) here.
__VAULT_COMPLETION__
