#requires -Version 7.4
<#
.SYNOPSIS
    Image benchmark: size, cold and cached build time, and container start to first /ping, for an ONNX and an sklearn
    python_function model; and the framework-dependent server on an ASP.NET Core base against a self-contained,
    trimmed (TrimMode=partial) server on a plain Debian base.
.DESCRIPTION
    Needs a Docker engine and the local base images:
        eval "$(bash .ci/services/dockerd.sh start)"; dotnet pwsh ./build.ps1 build; dotnet pwsh bench/image-bench.ps1
    "Cold" builds with -NoCache (the base images are local, so nothing is pulled); "cached" builds a changed model
    (new run_id) on top of the engine's cache, which is what a user's second model costs. The self-contained server
    needs the .NET SDK (the bench publishes it); the module ships the framework-dependent one.
    MLflow's `mlflow models build-docker`, as its documentation and issues (#2426, #5927, #12322) report it: images of
    2 to 6 GB, builds of 5 to 20 minutes; it cannot run here (no PyPI, no Docker Hub).
#>
param([int] $Runs = 3)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'out/MlModels') -Force
foreach ($v in 'DOCKER_HOST', 'MLMODELS_TEST_DOTNET_BASE', 'MLMODELS_TEST_PYTHON_BASE', 'MLMODELS_TEST_DEBIAN_BASE') {
    if (-not [Environment]::GetEnvironmentVariable($v)) { throw "$v is not set: run eval `"`$(bash .ci/services/dockerd.sh start)`" first." }
}
$dotnet = $env:MLMODELS_TEST_DOTNET_BASE; $python = $env:MLMODELS_TEST_PYTHON_BASE; $debian = $env:MLMODELS_TEST_DEBIAN_BASE
$work = Join-Path ([IO.Path]::GetTempPath()) "mlmodels-image-bench"
if (Test-Path $work) { Remove-Item $work -Recurse -Force }
New-Item -ItemType Directory $work | Out-Null
& /usr/bin/python3 (Join-Path $root 'tests/fixtures/make_python_models.py') (Join-Path $work 'py') | Out-Null

function Median([double[]] $xs) { $s = $xs | Sort-Object; $s[[int][Math]::Floor(($s.Count - 1) / 2)] }
function Seconds([scriptblock] $b) { $w = [Diagnostics.Stopwatch]::StartNew(); $r = & $b; $w.Stop(); [pscustomobject]@{ Seconds = $w.Elapsed.TotalSeconds; Result = $r } }

# A copy of the model with another run_id: a new model for the engine's cache.
function Copy-Changed($path, $i) {
    $dest = Join-Path $work "changed-$i-$(Split-Path $path -Leaf)"
    Copy-Item $path $dest -Recurse -Force
    $m = Get-MLModel $dest; $m.RunId = "bench-$i-$([guid]::NewGuid().ToString('N'))"; $m | Save-MLModel -LiteralPath $dest -Force | Out-Null
    $dest
}

function Measure-Model($label, $path, $buildArgs) {
    $cold = @(); $cached = @(); $start = @(); $image = $null
    for ($i = 0; $i -lt $Runs; $i++) {
        $t = Seconds { Build-MLModelImage -Path $path -Tag "bench/$label`:cold$i" -NoCache @buildArgs }
        $cold += $t.Seconds; $image = $t.Result
        $changed = Copy-Changed $path $i
        $cached += (Seconds { Build-MLModelImage -Path $changed -Tag "bench/$label`:cached$i" @buildArgs }).Seconds
        $s = Seconds { Start-MLModelContainer $image.Tag -StartTimeoutSec 300 }
        $start += $s.Seconds
        $s.Result | Stop-MLModelContainer -TimeoutSec 5
    }
    [pscustomobject]@{
        Image = $label; SizeMB = [Math]::Round($image.Size / 1e6, 1)
        ColdBuildS = [Math]::Round((Median $cold), 1); CachedBuildS = [Math]::Round((Median $cached), 1)
        StartToPingS = [Math]::Round((Median $start), 2); CachedVsCold = [Math]::Round((Median $cached) / (Median $cold), 2)
    }
}

$results = @(
    Measure-Model 'onnx' (Join-Path $root 'examples/onnx-linear') @{ DotnetImage = $dotnet }
    Measure-Model 'sklearn' (Join-Path $work 'py/sklearn-pipeline-cloudpickle') @{ DotnetImage = $dotnet; BaseImage = $python }
)

# Framework-dependent (what the module ships) against self-contained + trimmed, each as an ONNX image.
$fd = (Get-ChildItem (Join-Path $root 'out/MlModels/dependencies') -Recurse -File | Measure-Object Length -Sum).Sum
$sc = Join-Path $work 'server-sc'
dotnet publish (Join-Path $root 'src/MlModels.Server/MlModels.Server.csproj') -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -p:TrimMode=partial -o $sc --nologo -v quiet | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'The self-contained publish failed.' }
$ctx = Join-Path $work 'sc-ctx'
New-Item -ItemType Directory (Join-Path $ctx 'server') -Force | Out-Null
Get-ChildItem $sc -File | Where-Object { $_.Extension -ne '.pdb' } | Copy-Item -Destination (Join-Path $ctx 'server')
Copy-Item (Join-Path $root 'examples/onnx-linear') (Join-Path $ctx 'model') -Recurse
Set-Content (Join-Path $ctx 'Dockerfile') @"
FROM $debian
COPY server /opt/mlmodels/server
COPY model /opt/ml/model
USER 1654:1654
ENTRYPOINT ["/opt/mlmodels/server/MlModels.Server"]
CMD ["serve"]
"@
$scImage = Build-MLModelImage -ContextPath $ctx -Tag 'bench/onnx-selfcontained:1'
$c = Start-MLModelContainer $scImage.Tag; $c | Stop-MLModelContainer -TimeoutSec 5
$scServer = (Get-ChildItem $sc -File | Where-Object Extension -ne '.pdb' | Measure-Object Length -Sum).Sum
$results += [pscustomobject]@{ Image = 'onnx, self-contained trimmed on Debian'; SizeMB = [Math]::Round($scImage.Size / 1e6, 1); ColdBuildS = $null; CachedBuildS = $null; StartToPingS = $null; CachedVsCold = $null }
$results | Format-Table -AutoSize | Out-String -Width 200
"Server payload: framework-dependent module dependencies folder $([Math]::Round($fd / 1e6, 1)) MB (all platforms, with the cmdlets' own); self-contained trimmed server for linux-x64 alone $([Math]::Round($scServer / 1e6, 1)) MB."
"MLflow build-docker, as reported: 2-6 GB images, 5-20 minute builds."
