#requires -Version 7.4
<#
.SYNOPSIS
    Image benchmark: for an ONNX model (the native server on Debian minbase, and the framework-dependent server on the
    ASP.NET Core base), an sklearn and an xgboost python_function model (on the Python base): image size, what the
    module adds over the base, cold and cached build time, and the cold start from `docker run` to the first 200 on
    POST /invocations with the engine's own share (`docker run --entrypoint /bin/true`) beside it.
.DESCRIPTION
    Needs a Docker engine and the local base images, the module built, and Debian's python3-sklearn and python3-xgboost:
        eval "$(bash .ci/services/dockerd.sh start)"; dotnet pwsh ./build.ps1 build; dotnet pwsh bench/image-bench.ps1
    "Cold" builds with -NoCache (the base images are local, so nothing is pulled); "cached" builds a changed model
    (new run_id) on top of the engine's cache, which is what a user's second model costs. Cold starts are
    bench/cold-start.sh's: medians of -StartRuns (default 5), images in alternating order, layers cached.
    MLflow's `mlflow models build-docker`, as its documentation and issues (#2426, #5927, #12322) report it: images of
    2 to 6 GB, builds of 5 to 20 minutes; it cannot run here (no PyPI, no Docker Hub).
#>
param([int] $Runs = 3, [int] $StartRuns = 5)
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
& /usr/bin/python3 (Join-Path $root 'bench/make_flavor_models.py') (Join-Path $work 'flavors') | Out-Null
# One row for the xgboost model (f0..f9); the others take bench/cold-start.sh's default (x1, x2, x3).
$xgbBody = Join-Path $work 'xgb-body.json'
Set-Content $xgbBody ('{"dataframe_split": {"columns": [' + ((0..9 | ForEach-Object { "`"f$_`"" }) -join ', ') + '], "data": [[' +
    ((0..9 | ForEach-Object { '0.5' }) -join ', ') + ']]}}') -NoNewline

function Median([double[]] $xs) { $s = $xs | Sort-Object; $s[[int][Math]::Floor(($s.Count - 1) / 2)] }
function Seconds([scriptblock] $b) { $w = [Diagnostics.Stopwatch]::StartNew(); $r = & $b; $w.Stop(); [pscustomobject]@{ Seconds = $w.Elapsed.TotalSeconds; Result = $r } }
function ImageSize([string] $image) { [long](docker image inspect $image --format '{{.Size}}') }

# A copy of the model with another run_id: a new model for the engine's cache.
function Copy-Changed($path, $i) {
    $dest = Join-Path $work "changed-$i-$(Split-Path $path -Leaf)"
    Copy-Item $path $dest -Recurse -Force
    $m = Get-MLModel $dest; $m.RunId = "bench-$i-$([guid]::NewGuid().ToString('N'))"; $m | Save-MLModel -LiteralPath $dest -Force | Out-Null
    $dest
}

$cases = @(
    @{ Label = 'onnx-native'; Path = (Join-Path $root 'examples/onnx-linear'); Base = $debian; Args = @{ BaseImage = $debian; ServerBuild = 'Native' } }
    @{ Label = 'onnx-framework'; Path = (Join-Path $root 'examples/onnx-linear'); Base = $dotnet; Args = @{ DotnetImage = $dotnet; ServerBuild = 'Framework' } }
    @{ Label = 'sklearn'; Path = (Join-Path $work 'py/sklearn-pipeline-cloudpickle'); Base = $python; Args = @{ BaseImage = $python; DotnetImage = $dotnet } }
    @{ Label = 'xgboost'; Path = (Join-Path $work 'flavors/model-xgb'); Base = $python; Args = @{ BaseImage = $python; DotnetImage = $dotnet }; Body = $xgbBody }
)
$rows = foreach ($case in $cases) {
    $cold = @(); $cached = @(); $image = $null
    $buildArgs = $case.Args
    for ($i = 0; $i -lt $Runs; $i++) {
        $t = Seconds { Build-MLModelImage -Path $case.Path -Tag "bench/$($case.Label):cold$i" -NoCache @buildArgs }
        $cold += $t.Seconds; $image = $t.Result
        $changed = Copy-Changed $case.Path $i
        $cached += (Seconds { Build-MLModelImage -Path $changed -Tag "bench/$($case.Label):cached$i" @buildArgs }).Seconds
    }
    $case.Tag = $image.Tag
    [pscustomobject]@{
        Image = $case.Label; Server = $image.Labels['mlmodels.server']; SizeMB = [Math]::Round($image.Size / 1e6, 1)
        OverBaseMB = [Math]::Round(($image.Size - (ImageSize $case.Base)) / 1e6, 1)
        ColdBuildS = [Math]::Round((Median $cold), 1); CachedBuildS = [Math]::Round((Median $cached), 1)
        FirstAnswerMs = $null; EngineMs = $null
    }
}

# Cold starts, all images in alternating rounds (bench/cold-start.sh), then its medians into the table.
$startArgs = foreach ($case in $cases) { if ($case.Body) { "$($case.Tag)=$($case.Body)" } else { $case.Tag } }
$env:RUNS = $StartRuns
$out = & bash (Join-Path $root 'bench/cold-start.sh') @startArgs
if ($LASTEXITCODE -ne 0) { throw "bench/cold-start.sh failed:`n$($out -join "`n")" }
foreach ($i in 0..($cases.Count - 1)) {
    $line = $out | Where-Object { $_ -like "$($cases[$i].Tag) *" } | Select-Object -First 1
    $f = -split $line
    $rows[$i].FirstAnswerMs = [int]$f[1]; $rows[$i].EngineMs = [int]$f[2]
}
$out | Select-Object -First 1
$rows | Format-Table -AutoSize | Out-String -Width 200
"Base images: $debian $([Math]::Round((ImageSize $debian) / 1e6, 1)) MB, $dotnet $([Math]::Round((ImageSize $dotnet) / 1e6, 1)) MB, " +
    "$python $([Math]::Round((ImageSize $python) / 1e6, 1)) MB."
"Server timelines (last run of each):"
$out | Where-Object { $_ -like '*last timeline*' }
"MLflow build-docker, as reported: 2-6 GB images, 5-20 minute builds."
