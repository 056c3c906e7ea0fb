#requires -Version 7.4
<#
.SYNOPSIS
    Warm Python worker benchmark: Invoke-MLModelPrediction on an sklearn model, 10 rows, CSV in and JSON out, in one
    pwsh session. Cold (a new worker: -NoCache) against warm (the cached worker), and the limit measured in the same run.
.DESCRIPTION
    dotnet pwsh ./build.ps1 build; dotnet pwsh bench/warm-worker-bench.ps1 [-Runs 5] [-WarmRuns 30]
    cold  : median of -Runs calls with -NoCache (start Python, import scikit-learn, load the model, score, stop).
    warm  : median of -WarmRuns calls on the cached worker (after one call that starts it).
    python: a bare `python3 -c 'import sklearn'` process, start to exit: what any cold call pays before the model loads.
    limit : the same 10 rows scored inside one Python process already running with the model loaded (read_csv, predict,
            json.dump), i.e. the work a warm call cannot avoid; printed beside warm as a ratio.
    The goal for warm is under 50 ms on this machine.
#>
param([int] $Runs = 5, [int] $WarmRuns = 30)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'out/MlModels') -Force
$python = '/usr/bin/python3'
$env:MLMODELS_PYTHON = $python
$work = Join-Path ([IO.Path]::GetTempPath()) "mlmodels-warm-bench-$PID"
New-Item -ItemType Directory $work -Force | Out-Null
$model = Join-Path $work 'sklearn-linear'
& $python (Join-Path $PSScriptRoot 'make_sklearn_model.py') $model linear | Out-Null
$csv = Join-Path $work 'x10.csv'
& $python -c "import numpy as np, pandas as pd; pd.DataFrame(np.random.default_rng(2).normal(size=(10, 10)), columns=['f%d' % i for i in range(10)]).to_csv('$csv', index=False)"
$out = Join-Path $work 'o.json'

function Median([double[]] $xs) { $s = $xs | Sort-Object; if ($s.Count % 2) { $s[($s.Count - 1) / 2] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
function Ms([scriptblock] $b) { $w = [Diagnostics.Stopwatch]::StartNew(); & $b | Out-Null; $w.Elapsed.TotalMilliseconds }

Clear-MLModelWorkerCache -Confirm:$false
# One throwaway call warms .NET's JIT and the disk cache for both paths.
Invoke-MLModelPrediction -Path $model -InputCsv $csv -OutputPath $out -Force -NoCache

$cold = foreach ($i in 1..$Runs) { Ms { Invoke-MLModelPrediction -Path $model -InputCsv $csv -OutputPath $out -Force -NoCache } }
$first = Ms { Invoke-MLModelPrediction -Path $model -InputCsv $csv -OutputPath $out -Force }
$warm = foreach ($i in 1..$WarmRuns) { Ms { Invoke-MLModelPrediction -Path $model -InputCsv $csv -OutputPath $out -Force } }
$worker = Get-MLModelWorker -LiteralPath $model
$bare = foreach ($i in 1..$Runs) { Ms { & $python -c 'import sklearn' } }
$limitScript = @"
import json, pickle, sys, time
import pandas as pd
with open(sys.argv[1] + '/model.pkl', 'rb') as f: model = pickle.load(f)
def once():
    df = pd.read_csv(sys.argv[2])
    with open(sys.argv[3], 'w') as f: json.dump({'predictions': model.predict(df).tolist()}, f)
once()
times = []
for _ in range(int(sys.argv[4])):
    t = time.perf_counter(); once(); times.append((time.perf_counter() - t) * 1000)
times.sort()
print(times[len(times) // 2])
"@
$limit = [double](& $python -c $limitScript $model $csv (Join-Path $work 'limit.json') $WarmRuns)
Clear-MLModelWorkerCache -Confirm:$false

$coldMs = Median $cold; $warmMs = Median $warm; $bareMs = Median $bare
$inv = [Globalization.CultureInfo]::InvariantCulture
"sklearn LinearRegression, 10 rows x 10 columns, CSV in, JSON out, one pwsh session ($Runs cold, $WarmRuns warm runs)"
'cold (-NoCache, new worker)   {0,8:N1} ms (median)' -f $coldMs
'first call (starts the cache) {0,8:N1} ms' -f $first
'warm (cached worker {0})  {1,8:N1} ms (median; min {2:N1}, max {3:N1}; {4} calls served)' -f $worker.ProcessId, $warmMs, ($warm | Measure-Object -Minimum).Minimum, ($warm | Measure-Object -Maximum).Maximum, $worker.Calls
'cold / warm                   {0,8:N1}x' -f ($coldMs / $warmMs)
'python3 -c "import sklearn"   {0,8:N1} ms (median: Python start and scikit-learn import alone)' -f $bareMs
'limit (in-process Python)     {0,8:N2} ms (read_csv + predict + json.dump, model loaded)' -f $limit
'warm / limit                  {0,8:N1}x' -f ($warmMs / $limit)
'goal: warm < 50 ms: {0}' -f $(if ($warmMs -lt 50) { 'met' } else { 'missed by {0:N1} ms' -f ($warmMs - 50) })
Remove-Item $work -Recurse -Force
