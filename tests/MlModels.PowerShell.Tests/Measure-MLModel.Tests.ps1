BeforeDiscovery {
    $python = '/usr/bin/python3'
    $hasPython = (Test-Path $python) -and ($(& $python -c 'import sklearn, pandas, cloudpickle' 2>$null; $LASTEXITCODE) -eq 0)
    if (-not $hasPython -and $env:CI) { throw 'CI must install python3-sklearn, python3-pandas and python3-cloudpickle.' }
    $skip = -not $hasPython
}

# The expected metrics are scikit-learn's own (tests/fixtures/make_evaluation_models.py calls its functions as MLflow's
# default evaluator does); ONNX cases ask scikit-learn at test time, on the predictions Invoke-MLModelPrediction gives.
Describe 'Measure-MLModel' -Tag 'Python' -Skip:$skip {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        $script:Data = Join-Path $TestDrive 'evm'
        & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_evaluation_models.py') $Data | Out-Null

        # Each expected metric within 1e-9 relative (1e-12 absolute near zero), and no metric more or less than expected.
        function Assert-Metrics($actual, [hashtable] $expected) {
            @($actual.Keys | Sort-Object) | Should -Be @($expected.Keys | Sort-Object)
            foreach ($k in $expected.Keys) {
                $e = [double]$expected[$k]; $a = [double]$actual[$k]
                $tolerance = [math]::Max(1e-12, 1e-9 * [math]::Abs($e))
                [math]::Abs($a - $e) | Should -BeLessOrEqual $tolerance -Because "$k is $a, scikit-learn says $e"
            }
        }
        function Get-Expected([string] $name) { Get-Content (Join-Path $Data "expected/$name.json") -Raw | ConvertFrom-Json -AsHashtable }

        # scikit-learn's metrics for targets and predictions (and probabilities) given as JSON lists.
        function Get-SklearnMetrics([string] $code, [hashtable] $data) {
            $in = Join-Path $TestDrive "sk-$([guid]::NewGuid().ToString('N')).json"
            $data | ConvertTo-Json -Depth 5 -Compress | Set-Content $in
            $script = "import json,sys,numpy as np`nfrom sklearn import metrics as m`nd=json.load(open(sys.argv[1]))`n$code`nprint(json.dumps({k: float(v) for k, v in r.items()}))"
            (& /usr/bin/python3 -c $script $in) | ConvertFrom-Json -AsHashtable
        }

        $script:OnnxClassifier = Join-Path $TestDrive 'onnx-classifier'
        New-Item -ItemType Directory $OnnxClassifier | Out-Null
        Copy-Item (Join-Path $RepoRoot 'tests/fixtures/onnx/classifier.onnx') (Join-Path $OnnxClassifier 'model.onnx')
        Set-Content (Join-Path $OnnxClassifier 'MLmodel') "flavors:`n  onnx:`n    data: model.onnx`n    onnx_version: 1.14.0`n  python_function:`n    data: model.onnx`n    loader_module: mlflow.onnx`n"
    }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore }

    Context 'MLflow''s metrics, as scikit-learn computes them' {
        It 'a regressor through the Python worker: every metric, the score, the rows and the input''s SHA-256' {
            $csv = Join-Path $Data 'regression.csv'
            $e = Get-MLModel (Join-Path $Data 'sk-regressor') | Measure-MLModel -InputCsv $csv -Target y -ModelType Regressor
            Assert-Metrics $e.Metrics (Get-Expected 'sk-regressor')
            @($e.Metrics.Keys)[0] | Should -Be 'score'
            $e.RowCount | Should -Be 120
            $e.InputSha256 | Should -Be (Get-FileHash $csv -Algorithm SHA256).Hash.ToLowerInvariant()
            $e.ModelType | Should -Be 'Regressor'
            $e.Passed | Should -BeTrue
        }

        It 'a binary classifier with predict_proba: confusion counts, log_loss, roc_auc and precision_recall_auc' {
            $e = Measure-MLModel -Path (Join-Path $Data 'sk-binary') -InputCsv (Join-Path $Data 'binary.csv') -Target label -ModelType Classifier
            Assert-Metrics $e.Metrics (Get-Expected 'sk-binary')
        }

        It 'a three-class classifier with string labels: weighted averages and one-vs-rest roc_auc' {
            $out = Join-Path $TestDrive 'multiclass'
            $e = Measure-MLModel -Path (Join-Path $Data 'sk-multiclass') -InputCsv (Join-Path $Data 'multiclass.csv') -Target label -ModelType Classifier -OutputPath $out
            Assert-Metrics $e.Metrics (Get-Expected 'sk-multiclass')
            # per_class_metrics.csv: each class against the rest, as scikit-learn computes it.
            $expected = Get-Content (Join-Path $Data 'expected/sk-multiclass-per-class.json') -Raw | ConvertFrom-Json -AsHashtable
            $actual = @(Import-Csv (Join-Path $out 'artifacts/per_class_metrics.csv'))
            @($actual.positive_class) | Should -Be @($expected | ForEach-Object { $_.positive_class })
            for ($i = 0; $i -lt $expected.Count; $i++) {
                $row = @{}
                foreach ($p in $actual[$i].PSObject.Properties) { if ($p.Name -ne 'positive_class') { $row[$p.Name] = [double]$p.Value } }
                $want = @{} + $expected[$i]; $want.Remove('positive_class')
                Assert-Metrics $row $want
            }
            foreach ($png in 'confusion_matrix', 'roc_curve_plot', 'precision_recall_curve_plot') { Join-Path $out "artifacts/$png.png" | Should -Exist }
            Join-Path $out 'artifacts/lift_curve_plot.png' | Should -Not -Exist
        }

        It 'an ONNX regressor natively' {
            $csv = Join-Path $TestDrive 'onnx-regression.csv'
            $rows = Import-Csv (Join-Path $Data 'regression.csv')
            $rows | Export-Csv $csv -UseQuotes Never
            $model = Get-MLModel (Join-Path $Examples 'onnx-linear')
            $e = $model | Measure-MLModel -InputCsv $csv -Target y -ModelType Regressor
            $p = @(Import-Csv $csv | Select-Object x1, x2, x3 | ForEach-Object { [pscustomobject]@{ x1 = [double]$_.x1; x2 = [double]$_.x2; x3 = [double]$_.x3 } } |
                Invoke-MLModelPrediction -Model $model | ForEach-Object { [double]$_.variable })
            $expected = Get-SklearnMetrics @'
y=np.array(d["y"]); p=np.array(d["p"], dtype=np.float32).astype(np.float64)
r={"example_count": len(y), "mean_absolute_error": m.mean_absolute_error(y,p), "mean_squared_error": m.mean_squared_error(y,p),
   "root_mean_squared_error": m.mean_squared_error(y,p,squared=False), "sum_on_target": np.sum(y), "mean_on_target": np.sum(y)/len(y),
   "r2_score": m.r2_score(y,p), "max_error": m.max_error(y,p), "mean_absolute_percentage_error": m.mean_absolute_percentage_error(y,p)}
'@ @{ y = @($rows | ForEach-Object { [double]$_.y }); p = $p }
            Assert-Metrics $e.Metrics $expected
        }

        It 'an ONNX classifier''s ZipMap probabilities feed log_loss, roc_auc and precision_recall_auc' {
            $csv = Join-Path $TestDrive 'onnx-binary.csv'
            $rows = Import-Csv (Join-Path $Data 'binary.csv')
            $rows | Select-Object @{ n = 'a'; e = { $_.x1 } }, @{ n = 'b'; e = { $_.x2 } }, @{ n = 'c'; e = { $_.x3 } }, label | Export-Csv $csv -UseQuotes Never
            $e = Measure-MLModel -Path $OnnxClassifier -InputCsv $csv -Target label -ModelType Classifier
            $scored = @(Import-Csv $csv | ForEach-Object { [pscustomobject]@{ a = [float]$_.a; b = [float]$_.b; c = [float]$_.c } } | Invoke-MLModelPrediction -Path $OnnxClassifier)
            $expected = Get-SklearnMetrics @'
y=np.array(d["y"]); p=np.array(d["p"]); proba=np.array(d["proba"], dtype=np.float32).astype(np.float64)
tn,fp,fn,tp=m.confusion_matrix(y,p).ravel()
r={"true_negatives":tn,"false_positives":fp,"false_negatives":fn,"true_positives":tp,"example_count":len(y),"accuracy_score":m.accuracy_score(y,p),
   "recall_score":m.recall_score(y,p),"precision_score":m.precision_score(y,p),"f1_score":m.f1_score(y,p),"log_loss":m.log_loss(y,proba,labels=[0,1]),
   "roc_auc":m.roc_auc_score(y==1,proba[:,1]),"precision_recall_auc":m.average_precision_score(y==1,proba[:,1])}
'@ @{ y = @($rows | ForEach-Object { [int]$_.label }); p = @($scored.label); proba = @($scored | ForEach-Object { , @([double]$_.probabilities_0, [double]$_.probabilities_1) }) }
            Assert-Metrics $e.Metrics $expected
        }

        It 'takes rows from the pipeline and a dataframe_split JSON file alike' {
            $rows = Import-Csv (Join-Path $Data 'regression.csv') | ForEach-Object { [pscustomobject]@{ x1 = [double]$_.x1; x2 = [double]$_.x2; x3 = [double]$_.x3; y = [double]$_.y } }
            $fromRows = $rows | Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -Target y -ModelType Regressor
            Assert-Metrics $fromRows.Metrics (Get-Expected 'sk-regressor')
            $json = Join-Path $TestDrive 'regression.json'
            @{ dataframe_split = @{ columns = @('x1', 'x2', 'x3', 'y'); data = @($rows | ForEach-Object { , @($_.x1, $_.x2, $_.x3, $_.y) }) } } | ConvertTo-Json -Depth 5 | Set-Content $json
            $fromJson = Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputJson $json -Target y -ModelType Regressor
            Assert-Metrics $fromJson.Metrics (Get-Expected 'sk-regressor')
        }
    }

    Context 'a baseline and thresholds' {
        It 'scores the baseline on the same rows and passes thresholds that hold' {
            $e = Get-MLModel (Join-Path $Data 'sk-binary') | Measure-MLModel -InputCsv (Join-Path $Data 'binary.csv') -Target label -ModelType Classifier `
                -Baseline (Join-Path $Data 'sk-binary-weak') -Threshold @{ accuracy_score = @{ Threshold = 0.8; MinAbsoluteChange = 0.01; GreaterIsBetter = $true } }
            Assert-Metrics $e.BaselineMetrics (Get-Expected 'sk-binary-weak')
            $e.BaselineModel.Name | Should -Be 'sk-binary-weak'
            $e.Passed | Should -BeTrue
            $e.Validation[0].Metric | Should -Be 'accuracy_score'
        }

        It 'stops with ModelValidationFailed in MLflow''s words, after writing the evaluation' {
            $out = Join-Path $TestDrive 'gate'
            $failure = $null
            try {
                Get-MLModel (Join-Path $Data 'sk-binary-weak') | Measure-MLModel -InputCsv (Join-Path $Data 'binary.csv') -Target label -ModelType Classifier `
                    -Baseline (Get-MLModel (Join-Path $Data 'sk-binary')) -OutputPath $out -ErrorAction Stop `
                    -Threshold @{ accuracy_score = @{ Threshold = 0.99; GreaterIsBetter = $true }; log_loss = @{ MinRelativeChange = 0.05; GreaterIsBetter = $false }; f1_score = @{ Threshold = 0.1; GreaterIsBetter = $true } }
            }
            catch { $failure = $_ }
            ($failure.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ModelValidationFailed'
            $failure.CategoryInfo.Category | Should -Be 'InvalidResult'
            $weak = Get-Expected 'sk-binary-weak'
            $lines = $failure.Exception.Message -split "`n"
            $lines.Count | Should -Be 2
            # Python prints floats as repr does: the shortest text that reads back the same ('R').
            $accuracy = ([double]$weak.accuracy_score).ToString('R', [cultureinfo]::InvariantCulture)
            $failure.Exception.Message | Should -Match ([regex]::Escape("Metric accuracy_score value threshold check failed: candidate model accuracy_score = $accuracy, accuracy_score threshold = 0.99."))
            $failure.Exception.Message | Should -Match 'Metric log_loss minimum relative change check failed: candidate model log_loss = [0-9.]+, baseline model log_loss = [0-9.]+, log_loss minimum relative change threshold = 0.05\.'
            $failure.TargetObject.Passed | Should -BeFalse
            $metrics = Get-Content (Join-Path $out 'metrics.json') -Raw | ConvertFrom-Json -AsHashtable
            Assert-Metrics $metrics $weak
            foreach ($png in 'confusion_matrix', 'roc_curve_plot', 'precision_recall_curve_plot', 'lift_curve_plot') {
                $file = Join-Path $out "artifacts/$png.png"
                $file | Should -Exist
                [IO.File]::ReadAllBytes($file)[1..3] | Should -Be ([byte[]][char[]]'PNG')
            }
            $meta = Get-Content (Join-Path $out 'artifacts_metadata.json') -Raw | ConvertFrom-Json -AsHashtable
            $meta.confusion_matrix.class_name | Should -Be 'mlflow.models.evaluation.artifacts.ImageEvaluationArtifact'
            $table = Get-Content (Join-Path $out 'artifacts/eval_results_table.json') -Raw | ConvertFrom-Json
            $table.columns | Should -Be @('x1', 'x2', 'x3', 'label', 'outputs')
            $table.data.Count | Should -Be 150
        }

        It 'refuses a threshold without GreaterIsBetter, an unknown metric, and a change rule without a baseline' {
            $common = @{ Path = (Join-Path $Data 'sk-regressor'); InputCsv = (Join-Path $Data 'regression.csv'); Target = 'y'; ModelType = 'Regressor'; ErrorAction = 'Stop' }
            { Measure-MLModel @common -Threshold @{ r2_score = @{ Threshold = 0.5 } } } | Should -Throw -ErrorId 'InvalidThreshold*' -ExpectedMessage '*GreaterIsBetter*'
            $err = { Measure-MLModel @common -Threshold @{ accuracy = @{ Threshold = 0.5; GreaterIsBetter = $true } } } | Should -Throw -ErrorId 'InvalidThreshold*' -PassThru
            $err.Exception.Message | Should -Match "There is no metric 'accuracy' for a regressor; the metrics are example_count, mean_absolute_error"
            { Measure-MLModel @common -Threshold @{ r2_score = @{ MinAbsoluteChange = 0.1; GreaterIsBetter = $true } } } | Should -Throw -ErrorId 'InvalidThreshold*' -ExpectedMessage '*baseline*'
        }

        It 'refuses a baseline whose signature differs, naming both' {
            $other = Join-Path $TestDrive 'other-signature'
            Copy-Item (Join-Path $Data 'sk-regressor') $other -Recurse
            (Get-Content (Join-Path $other 'MLmodel') -Raw) -replace '"x3"', '"x4"' | Set-Content (Join-Path $other 'MLmodel')
            $err = { Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputCsv (Join-Path $Data 'regression.csv') -Target y -ModelType Regressor -Baseline $other -ErrorAction Stop } |
                Should -Throw -PassThru
            $err.Exception.Message | Should -Match 'takes different inputs'
            $err.Exception.Message | Should -Match 'x4'
        }
    }

    Context 'bad input' {
        It 'names a missing target column and the columns there are' {
            $err = { Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputCsv (Join-Path $Data 'regression.csv') -Target price -ModelType Regressor -ErrorAction Stop } |
                Should -Throw -ErrorId 'TargetColumnInvalid*' -PassThru
            $err.Exception.Message | Should -Match "no target column 'price'; its columns are \['x1', 'x2', 'x3', 'y'\]"
        }

        It 'refuses a missing target value, naming the row' {
            $csv = Join-Path $TestDrive 'nan-target.csv'
            "x1,x2,x3,y`n1,2,3,0.5`n1,1,1,`n0,0,0,1" | Set-Content $csv
            $err = { Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputCsv $csv -Target y -ModelType Regressor -ErrorAction Stop } | Should -Throw -PassThru
            $err.Exception.Message | Should -Match 'Row 2 has no target value'
        }

        It 'refuses a regressor''s target that is not a number, naming the row' {
            $csv = Join-Path $TestDrive 'text-target.csv'
            "x1,x2,x3,y`n1,2,3,0.5`n1,1,1,abc" | Set-Content $csv
            $err = { Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputCsv $csv -Target y -ModelType Regressor -ErrorAction Stop } | Should -Throw -PassThru
            $err.Exception.Message | Should -Match "line 3, column 'y': cannot convert 'abc' to float64"
        }

        It 'leaves out what one class cannot give, with a warning' {
            $csv = Join-Path $TestDrive 'one-class.csv'
            Import-Csv (Join-Path $Data 'binary.csv') | Select-Object x1, x2, x3, @{ n = 'label'; e = { 1 } } | Export-Csv $csv -UseQuotes Never
            $e = Measure-MLModel -Path (Join-Path $Data 'sk-binary') -InputCsv $csv -Target label -ModelType Classifier -WarningVariable warnings -WarningAction SilentlyContinue
            $e.Metrics.Keys | Should -Not -Contain 'roc_auc'
            $e.Metrics.example_count | Should -Be 150
            ($warnings -join "`n") | Should -Match 'roc_auc'
        }

        It 'refuses to replace an -OutputPath folder without -Force, and replaces it with -Force' {
            $out = Join-Path $TestDrive 'exists'
            New-Item -ItemType Directory $out | Out-Null
            Set-Content (Join-Path $out 'keep.txt') 'mine'
            $common = @{ Path = (Join-Path $Data 'sk-regressor'); InputCsv = (Join-Path $Data 'regression.csv'); Target = 'y'; ModelType = 'Regressor'; OutputPath = $out }
            { Measure-MLModel @common -ErrorAction Stop } | Should -Throw -ErrorId 'OutputExists*'
            Join-Path $out 'keep.txt' | Should -Exist
            $e = Measure-MLModel @common -Force
            Join-Path $out 'keep.txt' | Should -Not -Exist
            Join-Path $out 'artifacts/residuals_plot.png' | Should -Exist
            $e.OutputPath | Should -Be $out
            @(Get-ChildItem $TestDrive -Filter '.exists.*' -Force).Count | Should -Be 0
        }

        It 'stops promptly when stopped (Ctrl+C), stopping a Python worker that is busy' {
            $models = Join-Path $TestDrive 'pym'
            & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $models | Out-Null
            $csv = Join-Path $TestDrive 'hang.csv'
            # x1 = 999 makes the model sleep for an hour (tests/fixtures/make_python_models.py, custom-behaviour).
            "x1,x2,x3,y`n999,1,1,0.5" | Set-Content $csv
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$ModulePath'; `$env:MLMODELS_PYTHON = '/usr/bin/python3'; Measure-MLModel -Path '$(Join-Path $models 'custom-behaviour')' -InputCsv '$csv' -Target y -ModelType Regressor -TimeoutSec 600")
            $handle = $ps.BeginInvoke()
            Start-Sleep -Seconds 4 # the worker starts, loads the model and is inside predict
            $handle.IsCompleted | Should -BeFalse
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()   # what Ctrl+C does: StopProcessing
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $ps.Dispose()
        }

        It '-WhatIf writes nothing' {
            $out = Join-Path $TestDrive 'whatif'
            Measure-MLModel -Path (Join-Path $Data 'sk-regressor') -InputCsv (Join-Path $Data 'regression.csv') -Target y -ModelType Regressor -OutputPath $out -WhatIf
            $out | Should -Not -Exist
        }
    }

    Context 'logged to an MLflow run' -Tag 'Cloud' {
        BeforeAll {
            # The replaying fake of MLflow's tracking server (tests/MlModels.TrackingFake) with logging accepted, over HTTP.
            $fakeProject = Join-Path $RepoRoot 'tests/MlModels.TrackingFake'
            $fakeDll = Join-Path $fakeProject 'bin/Release/net8.0/MlModels.TrackingFake.dll'
            if (-not (Test-Path $fakeDll)) { dotnet build $fakeProject -c Release --nologo -v quiet | Out-Null }
            Add-Type -Path $fakeDll
            $script:Run1 = [MlModels.TrackingFake.TrackingReplay]::RunId(1)
        }
        AfterEach { if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null } }

        It 'logs the metrics at step 0 and the plots to the run''s artifact root (-RunId)' {
            $o = [MlModels.TrackingFake.ReplayOptions]::new()
            $o.Flows = [string[]]@('log-model')
            $o.AcceptLogging = $true
            $script:Fake = [MlModels.TrackingFake.ReplayHttpServer]::Start((Join-Path $RepoRoot 'tests/conformance/tracking'), $o)
            $out = Join-Path $TestDrive 'logged'
            $e = Measure-MLModel -Path (Join-Path $Data 'sk-binary') -InputCsv (Join-Path $Data 'binary.csv') -Target label -ModelType Classifier `
                -RunId $Run1 -TrackingUri $Fake.Uri -OutputPath $out
            $e.RunId | Should -Be $Run1
            $Fake.Replay.Mismatches | Should -BeNullOrEmpty
            $logged = $Fake.Replay.LoggedMetrics($Run1)
            @($logged.Key) | Should -Be @($e.Metrics.Keys)
            foreach ($m in $logged) { $m.Value | Should -Be $e.Metrics[$m.Key]; $m.Step | Should -Be 0 }
            @($logged.Timestamp | Select-Object -Unique).Count | Should -Be 1
            $files = $Fake.Replay.UploadedArtifacts($Run1)
            foreach ($name in 'confusion_matrix.png', 'roc_curve_plot.png', 'precision_recall_curve_plot.png', 'lift_curve_plot.png', 'eval_results_table.json') {
                $files.Keys | Should -Contain $name
                [Convert]::ToBase64String($files[$name]) | Should -Be ([Convert]::ToBase64String([IO.File]::ReadAllBytes((Join-Path $out "artifacts/$name"))))
            }
            $Fake.Replay.RunStatus($Run1) | Should -Not -Be 'FINISHED' # a run given by id is left as it was
            $meta = Get-Content (Join-Path $out 'artifacts_metadata.json') -Raw | ConvertFrom-Json -AsHashtable
            $meta.roc_curve_plot.uri | Should -BeLike 'mlflow-artifacts:/*/artifacts/roc_curve_plot.png'
        }

        It 'refuses -RunId and -Experiment together' {
            { Measure-MLModel -Path (Join-Path $Data 'sk-binary') -InputCsv (Join-Path $Data 'binary.csv') -Target label -ModelType Classifier -RunId x -Experiment y -ErrorAction Stop } |
                Should -Throw -ErrorId 'AmbiguousRun*'
        }
    }
}
