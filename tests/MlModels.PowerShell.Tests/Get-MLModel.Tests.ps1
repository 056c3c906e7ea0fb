BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Get-MLModel' -Tag 'Fast' {
    It 'reads a model folder and returns a rich object' {
        $m = Get-MLModel -Path (Join-Path $Conformance '014-*')
        # The type lives in the module's own load context, so check it by name.
        $m.GetType().FullName | Should -Be 'MlModels.Core.Format.MLModel'
        $m.RunId | Should -Be '5e1e2c44039a40afafc760b837a4daab'
        $m.MlflowVersion | Should -Be '2.3.1'
        $m.FlavorNames | Should -Be @('python_function', 'sklearn')
        $m.Signature.Inputs.Columns.Count | Should -Be 11
        $m.SavedInputExampleInfo.PandasOrient | Should -Be 'split'
        $m.UtcTimeCreated | Should -Be ([datetime]::new(2023, 5, 21, 19, 16, 51, 54, [DateTimeKind]::Utc).AddTicks(3350))
        $m.Flavors['python_function'].LoaderModule | Should -Be 'mlflow.sklearn'
    }

    It 'reads an MLmodel file given directly, with -LiteralPath' {
        $file = Get-Item (Join-Path $Conformance '004-*/MLmodel.with.metadata')
        $m = Get-MLModel -LiteralPath $file.FullName
        $m.Metadata['accuracy'] | Should -Be 0.978
    }

    It 'takes folders from Get-ChildItem' {
        $models = Get-ChildItem $Conformance -Directory -Filter '01*' | Get-MLModel
        $models.Count | Should -Be 10
    }

    It 'finds every model under a tree with -Recurse, and reports the one that is not a model' {
        $models = Get-MLModel $Conformance -Recurse -ErrorVariable errs -ErrorAction SilentlyContinue
        $models.Count | Should -Be 52
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'MLModelFormatInvalid,MlModels.PowerShell.Commands.GetMLModelCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].TargetObject | Should -Match '024-negative'
        $errs[0].Exception.Message | Should -Match 'Git LFS'
    }

    It 'names file, line and column for malformed YAML' {
        $dir = New-TestModel (Join-Path $TestDrive 'bad') "flavors:`n  onnx:`n    data: model.onnx`n   bad: indent`n"
        Get-MLModel $dir -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].Exception.Message | Should -Match ([regex]::Escape((Join-Path $dir 'MLmodel')))
        $err[0].Exception.Message | Should -Match 'line 4, column \d+'
        $err[0].Exception.Line | Should -Be 4
    }

    It 'names the field for a wrong type' {
        $dir = New-TestModel (Join-Path $TestDrive 'type') "flavors: just-text`n"
        Get-MLModel $dir -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Field | Should -Be 'flavors'
        $err[0].Exception.Message | Should -Match "'flavors' must be a mapping"
    }

    It 'reports a path that does not exist and goes on' {
        $ok = Join-Path $Examples 'sklearn-2018'
        $result = Get-MLModel -LiteralPath (Join-Path $TestDrive 'missing'), $ok -ErrorVariable err -ErrorAction SilentlyContinue
        $result.Name | Should -Be 'sklearn-2018'
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PathNotFound'
    }

    It 'expands wildcards in -Path' {
        (Get-MLModel (Join-Path $Conformance '00[1-3]-*')).Count | Should -Be 3
    }

    It 'takes model folders and MLmodel files from a wildcard, and passes over other files silently' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'models')
        New-TestModel (Join-Path $dir 'a') "flavors:`n  onnx: {data: model.onnx}`n" | Out-Null
        New-TestModel (Join-Path $dir 'b') "flavors:`n  onnx: {data: model.onnx}`n" | Out-Null
        New-Item -ItemType Directory (Join-Path $dir 'notes') | Out-Null
        Set-Content (Join-Path $dir 'scores.json') '{"accuracy": 0.9}'
        Set-Content (Join-Path $dir 'input.csv') "x1,x2`n1,2"
        $models = Get-MLModel (Join-Path $dir '*') -ErrorVariable err -ErrorAction SilentlyContinue -Verbose 4>&1 | Tee-Object -Variable all |
            Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $err.Count | Should -Be 0
        @($models).Name | Should -Be @('a', 'b')
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n"
        $verbose | Should -Match 'scores\.json'
        $verbose | Should -Match 'input\.csv'
        $verbose | Should -Match 'notes \(matched'
        (Get-MLModel (Join-Path $dir '*/MLmodel')).Name | Should -Be @('a', 'b')
    }

    It 'still reports a file that is not a model when it is named explicitly' {
        $file = Join-Path $TestDrive 'explicit.json'
        Set-Content $file '{"accuracy": 0.9}'
        Get-MLModel $file -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'MLModelFormatInvalid'
        Get-MLModel -LiteralPath $file -ErrorVariable err2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err2.Count | Should -Be 1
    }

    It 'loads the legacy examples: the 2018 time_created model and the early pyfunc layout' {
        $old = Get-MLModel (Join-Path $Examples 'sklearn-2018')
        $old.HasLegacyTimeCreated | Should -BeTrue
        $old.UtcTimeCreated.Year | Should -Be 2018
        $custom = Get-MLModel (Join-Path $Examples 'pyfunc-custom')
        $custom.Flavors['python_function'].LoaderModule | Should -Be 'linear_model'
        $custom.Flavors['python_function'].Env.Conda | Should -Be 'conda.yaml'
    }

    It 'loads the first pyfunc layout (python_function at the top level) as a model whose one flavor is python_function' {
        $m = Get-MLModel (Join-Path $Examples 'pyfunc-first-layout')
        $m.IsFirstPyfuncLayout | Should -BeTrue
        $m.FlavorNames | Should -Be @('python_function')
        $m.Flavors['python_function'].LoaderModule | Should -Be 'linear_model'
    }

    It 'reads environment files and the input example as objects' {
        $m = Get-MLModel (Join-Path $Conformance '014-*')
        $envInfo = $m | Get-MLModelEnvironment
        $envInfo.PythonVersion | Should -Be '3.10.6'
        $envInfo.Conda.Channels | Should -Contain 'conda-forge'
        $envInfo.Requirements | Should -Contain 'mlflow<3,>=2.3'
        $rows = @($m | Get-MLModelInputExample)
        $rows.Count | Should -Be 5
        $rows[0].'fixed acidity' | Should -Be 3.8
    }
}
