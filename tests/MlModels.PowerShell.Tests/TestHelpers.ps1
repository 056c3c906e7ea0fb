# Dot-sourced by every test file inside BeforeAll.
$script:RepoRoot = if ($env:MLMODELS_REPO) { $env:MLMODELS_REPO } else { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }
$script:ModulePath = if ($env:MLMODELS_MODULE) { $env:MLMODELS_MODULE } else { Join-Path $RepoRoot 'out/MlModels' }
$script:Conformance = Join-Path $RepoRoot 'tests/conformance/mlmodel'
$script:Examples = Join-Path $RepoRoot 'examples'
Import-Module $ModulePath -Force

# Runs a script in a fresh pwsh (same version as this one) and returns its output lines.
function Invoke-FreshPwsh([string] $Script) {
    $self = (Get-Process -Id $PID).Path
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { & $self (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 }
    else { & $self -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 }
}

function New-TestModel([string] $Path, [string] $Yaml) {
    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    Set-Content -Path (Join-Path $Path 'MLmodel') -Value $Yaml -NoNewline
    $Path
}

# Ports the OS has just handed out on 127.0.0.1 (all bound to port 0 at once, so distinct, then released), for
# servers that must be given a port.
function Get-FreePort([int] $Count = 1) {
    $listeners = foreach ($i in 1..$Count) {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $l.Start()
        $l
    }
    try { foreach ($l in $listeners) { $l.LocalEndpoint.Port } } finally { foreach ($l in $listeners) { $l.Stop() } }
}

# Waits for an event instead of a fixed time: runs $Read until $Done accepts what it returned (passed as $args[0]),
# or the deadline passes; returns the last value read either way, so the assertion after it shows what was seen.
function Wait-Until([scriptblock] $Read, [scriptblock] $Done, [int] $TimeoutSec = 30) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    do {
        $value = & $Read
        if (& $Done $value) { return , $value }
        Start-Sleep -Milliseconds 50
    } while ([DateTime]::UtcNow -lt $deadline)
    , $value
}

# Runs the Node gRPC client (tests/grpc-client, the Open Inference Protocol's cases, with @grpc/grpc-js loading the
# specification's .proto) against the targets given (model name = host:port), the cases whose names match $Cases.
# Returns its summary, with the lines as Lines; outside CI, a missing client skips the calling test.
function Invoke-GrpcClient([hashtable] $Targets, [string] $Cases = '') {
    $client = Join-Path $RepoRoot 'tests/grpc-client'
    if (-not (Test-Path (Join-Path $client 'node_modules/@grpc/grpc-js')) -or -not (Get-Command node -ErrorAction Ignore)) {
        if ($env:CI) { throw 'CI must provide Node.js and tests/grpc-client''s packages (npm ci --prefix tests/grpc-client).' }
        Set-ItResult -Skipped -Because 'the Node gRPC client is not installed here (npm ci --prefix tests/grpc-client); CI installs it'
        return
    }
    $lines = @(node (Join-Path $client 'v2_client.js') ($Targets | ConvertTo-Json -Compress) $Cases 2>&1 | ForEach-Object { "$_" })
    $summary = $lines[-1] | ConvertFrom-Json
    $summary | Add-Member -NotePropertyName Lines -NotePropertyValue ($lines -join "`n") -PassThru
}
