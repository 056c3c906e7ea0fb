BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $fixtures = Join-Path $RepoRoot 'tests/fixtures/onnx'
    $linear = Save-MLModel -OnnxModel (Join-Path $fixtures 'linear.onnx') -Path (Join-Path $TestDrive 'linear') -PassThru 3>$null
    $csv = Join-Path $TestDrive 'in.csv'
    Set-Content $csv "a,b,c`n1,2,3`n0,0,0`n"
}

Describe 'Invoke-MLModelPrediction' -Tag 'Fast' {
    It 'scores a CSV file from a model in the pipeline' {
        $out = Get-MLModel $linear.Path | Invoke-MLModelPrediction -InputCsv $csv 3>$null
        $out.variable | Should -Be @(4.75, 0.25)
    }

    It 'keeps the input columns with -IncludeInput' {
        $out = $linear | Invoke-MLModelPrediction -InputCsv $csv -IncludeInput 3>$null
        $out[0].a | Should -Be 1
        $out[0].PSObject.Properties.Name | Should -Be @('a', 'b', 'c', 'variable')
    }

    It 'takes the model by -Path' {
        (Invoke-MLModelPrediction -Path $linear.Path -InputCsv $csv 3>$null).Count | Should -Be 2
    }

    It 'takes a model folder whose name holds [ ] by -LiteralPath, which -Path reads as a wildcard' {
        $dir = Join-Path $TestDrive 'model[1]'
        Copy-Item -LiteralPath $linear.Path -Destination $dir -Recurse
        (Invoke-MLModelPrediction -LiteralPath $dir -InputCsv $csv 3>$null).variable | Should -Be @(4.75, 0.25)
        # The aliases and the other inputs bind to the literal sets too.
        $rows = [pscustomobject]@{ a = [float]1; b = [float]2; c = [float]3 } | Invoke-MLModelPrediction -LP $dir 3>$null
        $rows.variable | Should -Be 4.75
        (Invoke-MLModelPrediction -PSPath $dir -InputCsv $csv 3>$null).Count | Should -Be 2
        Invoke-MLModelPrediction -Path $dir -InputCsv $csv -ErrorVariable err -ErrorAction SilentlyContinue 3>$null
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PathNotFound'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-LiteralPath'
    }

    It 'writes CSV and MLflow JSON output files, and refuses to overwrite without -Force' {
        $o = Join-Path $TestDrive 'out.json'
        $linear | Invoke-MLModelPrediction -InputCsv $csv -OutputPath $o 3>$null
        (Get-Content $o -Raw | ConvertFrom-Json).predictions.variable | Should -Be @(4.75, 0.25)
        $linear | Invoke-MLModelPrediction -InputCsv $csv -OutputPath $o -ErrorVariable err -ErrorAction SilentlyContinue 3>$null
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'OutputExists'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        # Core says what is there; the cmdlet says how to replace it.
        $err[0].Exception.Message | Should -Not -Match '-Force'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-Force'
        $c = Join-Path $TestDrive 'out.txt'
        $linear | Invoke-MLModelPrediction -InputCsv $csv -OutputPath $c -OutputFormat Csv 3>$null
        Get-Content $c | Should -Be @('variable', '4.75', '0.25')
    }

    It 'scores an MLflow JSON request, tensors included' {
        $req = Join-Path $TestDrive 'req.json'
        Set-Content $req '{"inputs": [[1, 2, 3], [1, 1, 1]]}'
        $r = $linear | Invoke-MLModelPrediction -InputJson $req 3>$null
        $r.variable[0][0] | Should -Be 4.75
        $r.variable[1][0] | Should -Be 1.75
    }

    It 'scores objects, hashtables and a DataTable from the pipeline' {
        $multi = Save-MLModel -OnnxModel (Join-Path $fixtures 'multi.onnx') -Path (Join-Path $TestDrive 'multi') -PassThru 3>$null
        $r = [pscustomobject]@{ a = 1.5; b = 2.0; name = 'x' }, @{ a = 1.0; b = 1.0; name = 'y' } | Invoke-MLModelPrediction -Model $multi 3>$null
        $r.total | Should -Be @(5.5, 3.0)
        $table = [System.Data.DataTable]::new()
        'a', 'b' | ForEach-Object { [void]$table.Columns.Add($_, [double]) }
        [void]$table.Columns.Add('name', [string])
        [void]$table.Rows.Add(1.0, 0.5, 'z')
        (Invoke-MLModelPrediction -Model $multi -InputObject $table 3>$null).total | Should -Be 2.0
    }

    It 'refuses a float where an integer column is required, naming the column' {
        $m = Get-MLModel $linear.Path
        $m | Set-MLModelSignature -Inputs @{ name = 'a'; type = 'long' }, @{ name = 'b'; type = 'double' }, @{ name = 'c'; type = 'double' }
        $m | Save-MLModel -Path (Join-Path $TestDrive 'typed')
        $typed = Get-MLModel (Join-Path $TestDrive 'typed')
        $bad = Join-Path $TestDrive 'bad.csv'
        Set-Content $bad "a,b,c`n1.5,2,3`n"
        # CSV text that does not parse as the column's type is unreadable input (MLflow: BAD_REQUEST)...
        $typed | Invoke-MLModelPrediction -InputCsv $bad -ErrorVariable err -ErrorAction SilentlyContinue 3>$null
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidInput,MlModels.PowerShell.Commands.InvokeMLModelPredictionCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.ErrorCode | Should -Be 'BAD_REQUEST'
        $err[0].Exception.Message | Should -Match "line 2, column 'a'"
        # ...while a typed value that MLflow will not convert breaks the schema (INVALID_PARAMETER_VALUE).
        [pscustomobject]@{ a = [double]1; b = 2.0; c = 3.0 } | Invoke-MLModelPrediction -Model $typed -ErrorVariable err2 -ErrorAction SilentlyContinue 3>$null
        $err2[0].FullyQualifiedErrorId | Should -Be 'SchemaViolation,MlModels.PowerShell.Commands.InvokeMLModelPredictionCommand'
        $err2[0].Exception.ErrorCode | Should -Be 'INVALID_PARAMETER_VALUE'
        $err2[0].Exception.Message | Should -Match 'Can not safely convert float64 to int64'
    }

    It 'writes MLflow''s JSON for table and tensor requests' {
        $o = Join-Path $TestDrive 'records.json'
        $linear | Invoke-MLModelPrediction -InputCsv $csv -OutputPath $o 3>$null
        Get-Content $o -Raw | Should -BeExactly '{"predictions": [{"variable": 4.75}, {"variable": 0.25}]}'
        $req = Join-Path $TestDrive 'tensor.json'
        Set-Content $req '{"inputs": [[1, 2, 3], [1, 1, 1]]}'
        $t = Join-Path $TestDrive 'tensor-out.json'
        $linear | Invoke-MLModelPrediction -InputJson $req -OutputPath $t 3>$null
        Get-Content $t -Raw | Should -BeExactly '{"predictions": {"variable": [[4.75], [1.75]]}}'
    }

    It 'scores the model''s saved input example' {
        $dir = Join-Path $TestDrive 'example'
        Copy-Item $linear.Path $dir -Recurse
        $m = Get-MLModel $dir
        $m.SetField('saved_input_example_info', @{ artifact_path = 'input_example.json'; type = 'ndarray'; format = 'tf-serving' })
        Set-Content (Join-Path $dir 'input_example.json') '{"inputs": [[1, 2, 3]]}'
        $m | Save-MLModel -Force
        (Get-MLModel $dir | Invoke-MLModelPrediction -UseInputExample 3>$null).variable[0][0] | Should -Be 4.75
    }

    It 'stops promptly when stopped (Ctrl+C), leaving no output file' {
        # In a fresh pwsh: a second PowerShell instance runs the scoring and is stopped the way Ctrl+C stops a pipeline.
        $dir = Join-Path $TestDrive 'stop'
        New-Item -ItemType Directory $dir | Out-Null
        $out = Invoke-FreshPwsh @"
Import-Module '$ModulePath'
`$big = Join-Path '$dir' 'big.csv'
[IO.File]::WriteAllText(`$big, "a,b,c``n" + ("1.5,2.5,3.5``n" * 3000000))
`$target = Join-Path '$dir' 'stopped.csv'
`$ps = [powershell]::Create()
`$null = `$ps.AddScript("Import-Module '$ModulePath'; Invoke-MLModelPrediction -Path '$($linear.Path)' -InputCsv '`$big' -OutputPath '`$target' -BatchSize 1 3>```$null")
`$handle = `$ps.BeginInvoke()
for (`$i = 0; `$i -lt 200 -and -not (Get-ChildItem '$dir' -Force -Filter '.stopped.csv*'); `$i++) { Start-Sleep -Milliseconds 50 }
`$running = -not `$handle.IsCompleted
`$watch = [Diagnostics.Stopwatch]::StartNew()
`$ps.Stop()
`$ps.Dispose()
"running=`$running stopSeconds=`$(`$watch.Elapsed.TotalSeconds) output=`$(Test-Path `$target) temp=`$(@(Get-ChildItem '$dir' -Force -Filter '.stopped.csv*').Count)"
"@
        $line = ($out -join "`n")
        $line | Should -Match 'running=True'
        $line | Should -Match 'output=False temp=0'
        [double]([regex]::Match($line, 'stopSeconds=([\d.]+)').Groups[1].Value) | Should -BeLessThan 3
    }

    It 'warns and scores on CPU when the model asks for CUDA that is not there' {
        # Save-MLModel -OnnxModel asks for CUDAExecutionProvider first, as mlflow.onnx does; this ONNX Runtime has none.
        $m = Get-MLModel $linear.Path
        $out = $m | Invoke-MLModelPrediction -InputCsv $csv -WarningVariable w 3>$null
        ($w -join ' ') | Should -Match 'CUDAExecutionProvider'
        $out.variable | Should -Be @(4.75, 0.25)
        # The warning comes once, when the session is created: the same model object scores again without it.
        $again = $m | Invoke-MLModelPrediction -InputCsv $csv -WarningVariable w2 3>$null
        $w2 | Should -BeNullOrEmpty
        $again.variable | Should -Be @(4.75, 0.25)
    }

    It 'keeps ONNX Runtime off the console: its opset warning is a PowerShell warning, the rest Verbose' {
        # In a fresh pwsh, whose whole output (ONNX Runtime's native stderr included) comes back here.
        $dir = Join-Path $TestDrive 'ortlog'
        $out = Invoke-FreshPwsh @"
Import-Module '$ModulePath'
`$m = Save-MLModel -OnnxModel '$(Join-Path $fixtures 'old-opset.onnx')' -Path '$dir' -PassThru 3>`$null
Set-Content '$dir/req.json' '{"inputs": [[1, -2]]}'
`$m | Invoke-MLModelPrediction -InputJson '$dir/req.json' -Verbose 3>&1 4>&1 | ForEach-Object {
    if (`$_ -is [System.Management.Automation.WarningRecord]) { 'WARNING: ' + `$_.Message }
    elseif (`$_ -is [System.Management.Automation.VerboseRecord]) { 'VERBOSE: ' + `$_.Message }
    else { 'RESULT: ' + (`$_ | ConvertTo-Json -Compress -Depth 5) }
}
"@
        $text = $out -join "`n"
        $text | Should -Not -Match '\[W:onnxruntime'
        $text | Should -Match '(?m)^WARNING: ONNX Runtime warning .*opset 6'
        $text | Should -Match '(?m)^VERBOSE: ONNX Runtime warning .*Transpose optimizer'
        $text | Should -Not -Match '(?m)^WARNING: .*Transpose optimizer'
        $text | Should -Match '(?m)^RESULT: '
    }

    It 'names the operator and opset ONNX Runtime lacks, with its own error id' {
        Save-MLModel -OnnxModel (Join-Path $fixtures 'avgpool-opset1.onnx') -Path (Join-Path $TestDrive 'pool1') -ErrorVariable saveErr -ErrorAction SilentlyContinue 3>$null
        $saveErr.Count | Should -Be 1
        ($saveErr[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'OnnxOperatorNotImplemented'
        # A model folder whose graph uses it fails to score with the same error.
        $dir = Join-Path $TestDrive 'pool2'
        Copy-Item $linear.Path $dir -Recurse
        Copy-Item (Join-Path $fixtures 'avgpool-opset1.onnx') (Join-Path $dir 'model.onnx') -Force
        Set-Content (Join-Path $TestDrive 'pool.json') '{"inputs": [[1, 2, 3]]}'
        Get-MLModel $dir | Invoke-MLModelPrediction -InputJson (Join-Path $TestDrive 'pool.json') -ErrorVariable err -ErrorAction SilentlyContinue 3>$null
        $err.Count | Should -Be 1
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'OnnxOperatorNotImplemented'
        $err[0].CategoryInfo.Category | Should -Be 'NotImplemented'
        $err[0].Exception.Message | Should -Match 'AveragePool as defined in opset 1'
        $err[0].Exception.Message | Should -Match 're-export the model with a newer ONNX opset'
    }
}
