# vault: shell integration for PowerShell. Load it from $PROFILE:
#   Invoke-Expression (& vault hook pwsh | Out-String)
# It defines the `vault` function (which applies `use`, `unuse` and `refresh` to this session),
# wraps the prompt to keep $global:VAULT_SEGMENT current, and refreshes credentials inside their
# refresh window. Loading it twice is harmless.

$global:__VAULT_EXE = '<vault>'

function global:vault {
    if ($args.Count -gt 0 -and @('use', 'unuse', 'refresh') -contains $args[0]) {
        # Credentials must never reach a trace.
        Set-PSDebug -Off
        $env:__VAULT_SHELL = 'pwsh'
        try {
            $__vault_code = & $global:__VAULT_EXE @args | Out-String
            $__vault_status = $LASTEXITCODE
        } finally {
            Remove-Item -Path Env:__VAULT_SHELL -ErrorAction SilentlyContinue
        }
        if ($__vault_status -eq 0 -and $__vault_code) {
            Invoke-Expression $__vault_code
            $global:__vault_refresh_failed = $false
        }
        __vault_update
        $global:LASTEXITCODE = $__vault_status
    } else {
        & $global:__VAULT_EXE @args
    }
}

function global:__vault_update {
    if (-not $env:AWS_VAULT) {
        $global:VAULT_SEGMENT = ''
        return
    }
    $left = ''
    $text = if ($env:AWS_VAULT_PROMPT_FORMAT) { $env:AWS_VAULT_PROMPT_FORMAT } else { '%p %t' }
    if ($env:VAULT_EXPIRES_AT) {
        $offset = if ($env:VAULT_CLOCK_OFFSET) { [long]$env:VAULT_CLOCK_OFFSET } else { 0 }
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + $offset
        $secs = [long]$env:VAULT_EXPIRES_AT - $now
        if ($secs -le 0) { $left = 'expired' }
        elseif ($secs -lt 60) { $left = "${secs}s" }
        elseif ($secs -lt 3600) { $left = '{0}m' -f [math]::Floor($secs / 60) }
        else { $left = '{0}h{1:00}m' -f [math]::Floor($secs / 3600), [math]::Floor(($secs % 3600) / 60) }
        if ($global:__vault_refresh_failed) { $left = "$left!" }
    }
    $text = $text.Replace('%t', $left).Replace('%p', $env:AWS_VAULT)
    $global:VAULT_SEGMENT = $text.Trim()
}

function global:__vault_refresh_if_needed {
    if ($env:AWS_VAULT -and $env:VAULT_REFRESH_AT -and -not $global:__vault_refresh_failed) {
        $offset = if ($env:VAULT_CLOCK_OFFSET) { [long]$env:VAULT_CLOCK_OFFSET } else { 0 }
        if ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + $offset -ge [long]$env:VAULT_REFRESH_AT) {
            vault refresh --if-needed 2>$null
            if ($LASTEXITCODE -ne 0) {
                $global:__vault_refresh_failed = $true
                [Console]::Error.WriteLine("vault: the credentials of $env:AWS_VAULT expire soon and could not be refreshed without asking; run: vault refresh")
            }
        }
    }
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
__vault_update


Register-ArgumentCompleter -Native -CommandName vault -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $prev = $env:VAULT_COMPLETE;
    $env:VAULT_COMPLETE = "powershell";

    $args = $commandAst.Extent.Text
    $args = $args.Substring(0, [math]::Min($cursorPosition, $args.Length));
    if ($wordToComplete -eq "") {
        $args += " ''";
    }

    $results = Invoke-Expression @"
& vault -- $args
"@;
    if ($null -eq $prev) {
        Remove-Item Env:\VAULT_COMPLETE;
    } else {
        $env:VAULT_COMPLETE = $prev;
    }
    $results | ForEach-Object {
        $split = $_.Split("`t");
        $cmd = $split[0];

        if ($split.Length -eq 2) {
            $help = $split[1];
        }
        else {
            $help = $split[0];
        }

        [System.Management.Automation.CompletionResult]::new($cmd, $cmd, 'ParameterValue', $help)
    }
};
        
