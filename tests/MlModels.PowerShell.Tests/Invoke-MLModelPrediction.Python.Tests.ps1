BeforeDiscovery {
    $python = '/usr/bin/python3'
    $hasPython = (Test-Path $python) -and ($(& $python -c 'import sklearn, pandas, cloudpickle' 2>$null; $LASTEXITCODE) -eq 0)
    if (-not $hasPython -and $env:CI) { throw 'CI must install python3-sklearn, python3-pandas and python3-cloudpickle.' }
    $skip = -not $hasPython
    $hasVenv = $hasPython -and ($(& $python -c 'import ensurepip' 2>$null; $LASTEXITCODE) -eq 0)
    if ($hasPython -and -not $hasVenv -and $env:CI) { throw 'CI must install python3-venv.' }
}

Describe 'Invoke-MLModelPrediction on python_function models' -Tag 'Python' -Skip:$skip {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        $models = Join-Path $TestDrive 'pym'
        & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $models | Out-Null
        $inputCsv = Join-Path $models 'input.csv'

        function Compare-Predictions($actual, $name) {
            $expected = Import-Csv (Join-Path $models "expected/$name.csv")
            $actual.Count | Should -Be $expected.Count
            foreach ($column in $expected[0].PSObject.Properties.Name) {
                for ($i = 0; $i -lt $expected.Count; $i++) {
                    [double]$actual[$i].$column | Should -BeGreaterOrEqual ([double]$expected[$i].$column - 1e-9)
                    [double]$actual[$i].$column | Should -BeLessOrEqual ([double]$expected[$i].$column + 1e-9)
                }
            }
        }
    }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore }

    It 'scores <_> the same as its own predict in Python, without MLflow installed' -ForEach 'sklearn-linear-pickle', 'sklearn-forest-proba', 'sklearn-pipeline-cloudpickle', 'python-model-artifact' {
        $out = Get-MLModel (Join-Path $models $_) | Invoke-MLModelPrediction -InputCsv $inputCsv
        Compare-Predictions $out $_
    }

    It 'loads through mlflow.pyfunc.load_model when mlflow is importable, with the same predictions' {
        # Real MLflow cannot be installed here (no PyPI); a stand-in package exercises the worker's MLflow path.
        $fake = Join-Path $TestDrive 'fake-mlflow'
        New-Item -ItemType Directory -Path (Join-Path $fake 'mlflow/pyfunc') -Force | Out-Null
        Set-Content (Join-Path $fake 'mlflow/__init__.py') ''
        Set-Content (Join-Path $fake 'mlflow/pyfunc/__init__.py') @"
import os, pickle
class _Loaded:
    def __init__(self, m): self._m = m
    def predict(self, data, params=None): return self._m.predict(data)
def load_model(path):
    with open(os.path.join(path, 'model.pkl'), 'rb') as f:
        return _Loaded(pickle.load(f))
"@
        $env:PYTHONPATH = $fake
        try {
            $all = Get-MLModel (Join-Path $models 'sklearn-linear-pickle') | Invoke-MLModelPrediction -InputCsv $inputCsv -Verbose 4>&1
        }
        finally { Remove-Item Env:PYTHONPATH }
        $verbose = @(($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message)
        @($verbose -match "loaded 'sklearn-linear-pickle' via mlflow\.$").Count | Should -Be 1
        Compare-Predictions @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }) 'sklearn-linear-pickle'
    }

    It 'loads with its own sklearn loader when mlflow is not importable' {
        $v = Get-MLModel (Join-Path $models 'sklearn-linear-pickle') | Invoke-MLModelPrediction -InputCsv $inputCsv -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @(@($v.Message) -match "loaded 'sklearn-linear-pickle' via builtin:mlflow\.sklearn\.$").Count | Should -Be 1
    }

    It 'passes params through to the model, defaults filled from the param schema' {
        $out = Get-MLModel (Join-Path $models 'python-model-artifact') | Invoke-MLModelPrediction -InputCsv $inputCsv -Params @{ scale = 2 }
        $row = (Import-Csv $inputCsv)[0]
        $out[0].prediction | Should -BeGreaterThan (2 * ([double]$row.x1 + [double]$row.x2) + 10 - 1e-9)
        $out[0].prediction | Should -BeLessThan (2 * ([double]$row.x1 + [double]$row.x2) + 10 + 1e-9)
    }

    It 'scores pipeline objects through a seed-style loader module (code/, data/, main)' {
        $r = [pscustomobject]@{ x1 = 1.0; x2 = 2.0 } | Invoke-MLModelPrediction -Path (Join-Path $Examples 'pyfunc-custom')
        $r.prediction | Should -Be 2.0
    }

    It 'scores a model in the first pyfunc layout (python_function at the top level) through its load_pyfunc' {
        $r = [pscustomobject]@{ x1 = 1.0; x2 = 2.0 }, [pscustomobject]@{ x1 = 0.0; x2 = 4.0 } |
            Invoke-MLModelPrediction -Path (Join-Path $Examples 'pyfunc-first-layout') 3>$null # it asks for Python 3.6
        $r.prediction | Should -Be @(3.0, 1.0) # 3*x1 + 0.5*x2 - 1
    }

    It 'gives a pip command that works for a missing module: the distribution and the version the model pins' {
        $dir = Join-Path $TestDrive 'needs-skimage'
        Copy-Item (Join-Path $Examples 'pyfunc-custom') $dir -Recurse
        $code = Join-Path $dir 'code/linear_model.py'
        Set-Content $code ("import skimage.filters`n" + (Get-Content $code -Raw))
        Set-Content (Join-Path $dir 'requirements.txt') "mlflow==2.12.2`nscikit-image==0.22.0`n"
        [pscustomobject]@{ x1 = 1.0; x2 = 2.0 } | Invoke-MLModelPrediction -Path $dir -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PythonModuleMissing'
        $err[0].Exception.Message | Should -Match ([regex]::Escape('pip install "scikit-image==0.22.0" (pinned in the model''s requirements.txt; ''skimage'' is imported from the scikit-image distribution)'))
        $err[0].Exception.Message | Should -Not -Match 'pip install skimage'
    }

    It 'says PythonNotFound, not a worker failure, for a Python that is not there' {
        [pscustomobject]@{ x1 = 1.0; x2 = 2.0 } | Invoke-MLModelPrediction -Path (Join-Path $Examples 'pyfunc-custom') -PythonPath (Join-Path $TestDrive 'no-python') -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PythonNotFound'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        # Core says what went wrong; the cmdlet adds its own way out.
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-PythonPath'
    }

    It 'says EnvironmentFileMissing, not PythonNotFound, for a conda environment without conda.yaml' {
        $dir = Join-Path $TestDrive 'no-conda-yaml'
        Copy-Item (Join-Path $models 'sklearn-linear-pickle') $dir -Recurse
        Remove-Item (Join-Path $dir 'conda.yaml') -ErrorAction Ignore
        $fakeConda = New-Item -ItemType Directory (Join-Path $TestDrive 'fake-conda-bin') -Force
        Set-Content (Join-Path $fakeConda 'conda') "#!/bin/sh`nexit 0"
        chmod +x (Join-Path $fakeConda 'conda')
        $path = $env:PATH
        $env:PATH = "$fakeConda$([IO.Path]::PathSeparator)$path"
        $env:MLMODELS_ENV_CACHE = Join-Path $TestDrive 'conda-envs'
        try {
            Get-MLModel $dir | Invoke-MLModelPrediction -InputCsv $inputCsv -EnvManager Conda -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        }
        finally { $env:PATH = $path; Remove-Item Env:MLMODELS_ENV_CACHE }
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'EnvironmentFileMissing'
    }

    It 'names the module a model cannot import' {
        Get-MLModel (Join-Path $models 'missing-module') | Invoke-MLModelPrediction -InputCsv $inputCsv -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PythonModuleMissing'
        $err[0].CategoryInfo.Category | Should -Be 'NotInstalled'
        $err[0].Exception.Message | Should -Match "needs the Python module 'no_such_module_xyz'"
    }

    It 'reports an exception inside predict, with the traceback on Verbose' {
        $v = [pscustomobject]@{ x1 = 111.0; x2 = 1.0; x3 = 1.0 } | Invoke-MLModelPrediction -Path (Join-Path $models 'custom-behaviour') -ErrorVariable err -ErrorAction SilentlyContinue -Verbose 4>&1
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ModelPredictFailed'
        $err[0].Exception.ErrorCode | Should -Be 'BAD_REQUEST'
        $err[0].Exception.Message | Should -Match "custom-behaviour.*ValueError: model refuses x1 == 111"
        ($v -join "`n") | Should -Match 'Traceback'
    }

    It 'reports a worker killed mid-batch' {
        [pscustomobject]@{ x1 = 666.0; x2 = 1.0; x3 = 1.0 } | Invoke-MLModelPrediction -Path (Join-Path $models 'custom-behaviour') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match "worker for model 'custom-behaviour' exited"
    }

    It 'stops a worker that hangs past -TimeoutSec' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        [pscustomobject]@{ x1 = 999.0; x2 = 1.0; x3 = 1.0 } | Invoke-MLModelPrediction -Path (Join-Path $models 'custom-behaviour') -TimeoutSec 2 -ErrorVariable err -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PythonWorkerTimeout'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err[0].Exception.Message | Should -Match 'did not finish .* within 2 s; it was stopped'
    }

    It 'keeps what a model prints out of the predictions, on the Verbose stream' {
        $all = [pscustomobject]@{ x1 = 42.0; x2 = 1.0; x3 = 1.0 } | Invoke-MLModelPrediction -Path (Join-Path $models 'custom-behaviour') -Verbose 4>&1
        ($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain 'chatty model says hello'
        # The model returns df["x1"] * 2, a Series named x1.
        ($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).x1 | Should -Be 84
    }

    It 'warns when the model asks for another Python minor version' {
        $dir = Join-Path $TestDrive 'oldpy'
        Copy-Item (Join-Path $models 'sklearn-linear-pickle') $dir -Recurse
        (Get-Content (Join-Path $dir 'python_env.yaml') -Raw) -replace 'python: \S+', 'python: 3.6.9' | Set-Content (Join-Path $dir 'python_env.yaml')
        $null = Get-MLModel $dir | Invoke-MLModelPrediction -InputCsv $inputCsv -WarningVariable w 3>$null
        ($w -join ' ') | Should -Match 'saved with Python 3\.6\.9'
    }

    It 'says with -WhatIf what a virtual environment would install, and makes nothing' {
        $env:MLMODELS_ENV_CACHE = Join-Path $TestDrive 'envs'
        try {
            # "What if:" goes to the host, so read it from a fresh pwsh's output.
            $out = Invoke-FreshPwsh "`$env:MLMODELS_PYTHON = '/usr/bin/python3'; `$env:MLMODELS_ENV_CACHE = '$env:MLMODELS_ENV_CACHE'; Import-Module '$ModulePath'; Get-MLModel '$(Join-Path $models 'sklearn-linear-pickle')' | Invoke-MLModelPrediction -InputCsv '$inputCsv' -EnvManager VirtualEnv -WhatIf"
            ($out -join ' ') | Should -Match 'install: scikit-learn, cloudpickle'
            $env:MLMODELS_ENV_CACHE | Should -Not -Exist
        }
        finally { Remove-Item Env:MLMODELS_ENV_CACHE }
    }

    It 'makes a virtual environment once, offline from packages already present, and reuses it' -Skip:(-not $hasVenv) {
        $env:MLMODELS_ENV_CACHE = Join-Path $TestDrive 'envs2'
        try {
            $m = Get-MLModel (Join-Path $models 'sklearn-linear-pickle')
            $first = $m | Invoke-MLModelPrediction -InputCsv $inputCsv -EnvManager VirtualEnv -Confirm:$false
            Compare-Predictions $first 'sklearn-linear-pickle'
            $made = Get-ChildItem $env:MLMODELS_ENV_CACHE -Directory
            $made.Count | Should -Be 1
            $again = $m | Invoke-MLModelPrediction -InputCsv $inputCsv -EnvManager VirtualEnv -Confirm:$false
            (Get-ChildItem $env:MLMODELS_ENV_CACHE -Directory).FullName | Should -Be $made.FullName
            $again.Count | Should -Be 200
        }
        finally { Remove-Item Env:MLMODELS_ENV_CACHE }
    }
}

Describe 'Initialize-MLModelEnvironment and Start-MLModelServer -EnvManager' -Tag 'Python' -Skip:$skip {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        $env:MLMODELS_ENV_CACHE = Join-Path $TestDrive 'envs'
        $models = Join-Path $TestDrive 'pym'
        & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $models | Out-Null
        $model = Join-Path $models 'sklearn-linear-pickle'
    }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON, Env:MLMODELS_ENV_CACHE -ErrorAction Ignore }

    It 'makes the environment once and then reuses it, saying which' -Skip:(-not $hasVenv) {
        $first = Get-MLModel $model | Initialize-MLModelEnvironment -Confirm:$false
        $first.Created | Should -BeTrue
        $first.EnvManager | Should -Be 'VirtualEnv'
        $first.BasePython | Should -Be '/usr/bin/python3'
        $first.Python | Should -Be (Join-Path $first.Directory 'bin/python')
        & $first.Python -c 'import sklearn' ; $LASTEXITCODE | Should -Be 0
        $again = Initialize-MLModelEnvironment -Path $model
        $again.Created | Should -BeFalse
        $again.Directory | Should -Be $first.Directory
        # Scoring with the same manager finds it: no second environment.
        $null = Get-MLModel $model | Invoke-MLModelPrediction -InputCsv (Join-Path $models 'input.csv') -EnvManager VirtualEnv -Confirm:$false
        (Get-ChildItem $env:MLMODELS_ENV_CACHE -Directory).FullName | Should -Be $first.Directory
    }

    It 'refuses a model whose Python version no interpreter here has, naming both' {
        $dir = Join-Path $TestDrive 'py36'
        Copy-Item $model $dir -Recurse
        (Get-Content (Join-Path $dir 'python_env.yaml') -Raw) -replace 'python: \S+', 'python: 3.6.9' | Set-Content (Join-Path $dir 'python_env.yaml')
        Initialize-MLModelEnvironment -Path $dir -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'PythonVersionNotFound,MlModels.PowerShell.Commands.InitializeMLModelEnvironmentCommand'
        $err[0].Exception.Message | Should -BeLike '*wants Python 3.6.9*/usr/bin/python3 (Python 3.*'
        Start-MLModelServer -Path $dir -EnvManager VirtualEnv -Port (Get-FreePort) -Background -ErrorVariable serr -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $serr[0].FullyQualifiedErrorId | Should -BeExactly 'PythonVersionNotFound,MlModels.PowerShell.Commands.StartMLModelServerCommand'
    }

    It 'serves from the prepared environment with -EnvManager VirtualEnv' -Skip:(-not $hasVenv) {
        $env = Initialize-MLModelEnvironment -Path $model -Confirm:$false
        $server = Start-MLModelServer -Path $model -EnvManager VirtualEnv -Port (Get-FreePort) -Background -Verbose 4>&1
        try {
            $info = $server | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
            ($server | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain "VirtualEnv environment $($env.Directory) (reused); Python $($env.Python)."
            $body = '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1.0, 2.0, 3.0]]}}'
            $answer = Invoke-RestMethod -Method Post -Uri "$($info.Url)/invocations" -ContentType 'application/json' -Body $body -TimeoutSec 60
            $answer.predictions.Count | Should -Be 1
        }
        finally { $info | Stop-MLModelServer }
    }
}

Describe 'Invoke-MLModelPrediction answers as MLflow 2.12.2 on its scoring corpus' -Tag 'Python' -Skip:$skip {
    BeforeDiscovery {
        $corpus = Join-Path $PSScriptRoot '../conformance/scoring'
        # Pester binds -ForEach data to variables only from dictionaries: each run becomes one. The flavor corpus'
        # runs (xgboost, pytorch, statsmodels models, scored without MLflow) join when this Python has those libraries.
        $flavorLibraries = ($(& '/usr/bin/python3' -c 'import xgboost, torch, statsmodels' 2>$null; $LASTEXITCODE) -eq 0)
        if (-not $flavorLibraries -and $env:CI) { throw 'CI must install python3-xgboost, python3-torch and python3-statsmodels.' }
        $runs = foreach ($name in @('scoring') + @(if ($flavorLibraries) { 'flavors' })) {
            foreach ($r in (Get-Content (Join-Path $PSScriptRoot "../conformance/$name/predict/index.json") -Raw | ConvertFrom-Json)) {
                # A failed run records the last line MLflow printed: a schema refusal, or the model's own exception.
                $said = if ($r.PSObject.Properties['error']) { ($r.error -split 'Error: ')[-1] } else { $null }
                $errorId = if ($said -and $r.error -notmatch 'schema') { 'ModelPredictFailed' } else { 'SchemaViolation' }
                @{ Corpus = $name; Model = $r.model; Format = $r.format; InputFile = $r.input; ExitCode = [int]$r.exit_code; Output = $r.output; ErrorId = $errorId; Said = $said }
            }
        }
        $errors = @(
            @{ Case = 'sk-ridge__missing-column'; Code = 'INVALID_PARAMETER_VALUE'; Id = 'SchemaViolation' }
            @{ Case = 'sk-ridge__string-for-double'; Code = 'BAD_REQUEST'; Id = 'InvalidInput' }
            @{ Case = 'py-tensor-sig__tensor-wrong-shape'; Code = 'INVALID_PARAMETER_VALUE'; Id = 'SchemaViolation' }
            @{ Case = 'py-raises__negative-a-csv'; Code = 'BAD_REQUEST'; Id = 'ModelPredictFailed' }
            @{ Case = 'py-params__params-wrong-type'; Code = 'INVALID_PARAMETER_VALUE'; Id = 'SchemaViolation' }
        )
    }
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        $corpus = Join-Path $RepoRoot 'tests/conformance/scoring'
    }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore }

    It 'writes what mlflow models predict wrote for <Corpus>/<InputFile>' -ForEach $runs {
        $root = Join-Path $RepoRoot "tests/conformance/$Corpus"
        $out = Join-Path $TestDrive ("$Corpus-" + [IO.Path]::GetFileName($InputFile) + '.out.json')
        Test-Path (Join-Path $root "models/$Model/MLmodel") | Should -BeTrue
        $parameters = @{ Path = (Join-Path $root "models/$Model"); OutputPath = $out; ErrorVariable = 'err'; ErrorAction = 'SilentlyContinue' }
        if ($Format -eq 'csv') { $parameters.InputCsv = Join-Path $root $InputFile } else { $parameters.InputJson = Join-Path $root $InputFile }
        Invoke-MLModelPrediction @parameters 3>$null
        if ($ExitCode -ne 0) {
            # mlflow models predict failed and wrote nothing: so must this, with the matching error.
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$ErrorId,MlModels.PowerShell.Commands.InvokeMLModelPredictionCommand"
            if ($Said) { $err[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($Said))*" }
            $out | Should -Not -Exist
        }
        else {
            $err | Should -BeNullOrEmpty
            [IO.File]::ReadAllText($out) | Should -BeExactly ([IO.File]::ReadAllText((Join-Path $root $Output)))
        }
    }

    It 'refuses <Case> with MLflow''s error code' -ForEach $errors {
        $entry = (Get-Content (Join-Path $corpus 'cases.json') -Raw | ConvertFrom-Json) | Where-Object case -eq $Case
        $parameters = @{ Path = (Join-Path $corpus "models/$($entry.model)"); OutputPath = (Join-Path $TestDrive "$Case.json"); ErrorVariable = 'err'; ErrorAction = 'SilentlyContinue' }
        if ($entry.content_type -like 'text/csv*') { $parameters.InputCsv = Join-Path $corpus $entry.body_file } else { $parameters.InputJson = Join-Path $corpus $entry.body_file }
        Invoke-MLModelPrediction @parameters 3>$null
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly "$Id"
        $err[0].Exception.ErrorCode | Should -Be $Code
        ((Get-Content (Join-Path $corpus "responses/$Case.json") -Raw | ConvertFrom-Json).body.error_code) | Should -Be $Code
        Join-Path $TestDrive "$Case.json" | Should -Not -Exist
    }
}
