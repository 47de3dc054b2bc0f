Remove-Item -Path Env:AWS_ACCESS_KEY_ID -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_SECRET_ACCESS_KEY -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_SESSION_EXPIRATION -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_REGION -ErrorAction SilentlyContinue
Remove-Item -Path Env:AWS_DEFAULT_REGION -ErrorAction SilentlyContinue
$env:AWS_PROFILE = 'mine'
Remove-Item -Path Env:AWS_VAULT -ErrorAction SilentlyContinue
Remove-Item -Path Env:VAULT_EXPIRES_AT -ErrorAction SilentlyContinue
Remove-Item -Path Env:VAULT_REFRESH_AT -ErrorAction SilentlyContinue
Remove-Item -Path Env:VAULT_CLOCK_BOOT -ErrorAction SilentlyContinue
Remove-Item -Path Env:__VAULT_STATE -ErrorAction SilentlyContinue
