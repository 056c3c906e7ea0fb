BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Test-MLModel' -Tag 'Fast' {
    It 'reports a flavor path that leaves the model folder, without reading it' {
        $dir = New-TestModel (Join-Path $TestDrive 'escape') "flavors:`n  sklearn:`n    pickled_model: ../../etc/passwd`n  python_function:`n    loader_module: mlflow.sklearn`n    data: /etc/passwd`n"
        $r = Test-MLModel -Path $dir
        $r.IsValid | Should -BeFalse
        $found = $r.Findings | Where-Object Code -eq 'PathOutsideModel'
        $found.Field | Sort-Object | Should -Be @('flavors.python_function.data', 'flavors.sklearn.pickled_model')
        ($found | Where-Object Field -eq 'flavors.sklearn.pickled_model').Line | Should -Be 3
    }

    It 'reports missing files and a pyfunc flavor with no loader module' {
        $dir = New-TestModel (Join-Path $TestDrive 'missing') "flavors:`n  python_function:`n    data: model.pkl`n"
        $r = Get-MLModel $dir | Test-MLModel
        $r.Findings.Code | Should -Contain 'MissingFile'
        $r.Findings.Code | Should -Contain 'PyfuncNoLoaderModule'
    }

    It 'names legacy layouts' {
        $r = Get-MLModel (Join-Path $Examples 'sklearn-2018') | Test-MLModel
        $r.IsLegacy | Should -BeTrue
        $r.Findings.Code | Should -Contain 'LegacyTimeCreated'
        $r2 = Test-MLModel -Path (Join-Path $Examples 'pyfunc-custom')
        $r2.IsValid | Should -BeTrue
        $r2.Findings.Code | Should -Contain 'LegacyPyfuncMain'
        $r2.Findings.Code | Should -Contain 'LegacyEnvString'
        $r3 = Test-MLModel -Path (Join-Path $Examples 'pyfunc-first-layout')
        $r3.IsValid | Should -BeTrue
        $r3.IsLegacy | Should -BeTrue
        ($r3.Findings | Where-Object Code -eq 'LegacyPyfuncLayout').Message | Should -Match "first pyfunc layout.*'linear_model'"
    }

    It 'warns about python_version written as a number' {
        $r = Test-MLModel -Path (Join-Path $Conformance '010-*')
        ($r.Findings | Where-Object Code -eq 'PythonVersionIsNumber').Severity | Should -Be 'Warning'
    }

    It 'checks the input example against the signature' {
        $dir = Join-Path $TestDrive 'example'
        Copy-Item (Get-Item (Join-Path $Conformance '014-*')).FullName $dir -Recurse
        Set-Content (Join-Path $dir 'input_example.json') '{"columns": ["pH"], "data": [[3.1]]}'
        $r = Test-MLModel -Path $dir
        ($r.Findings | Where-Object Code -eq 'InputExampleMismatch').Count | Should -Be 10
    }

    It 'answers $true/$false with -Quiet, including for a folder that is not a model' {
        Test-MLModel -Path (Join-Path $Examples 'pyfunc-custom') -Quiet | Should -BeTrue
        Test-MLModel -Path (Join-Path $Conformance '024-*') -Quiet | Should -BeFalse
    }

    It 'gives an honest verdict for every conformance folder' {
        $results = Get-MLModel $Conformance -Recurse -ErrorAction SilentlyContinue | Test-MLModel
        $results.Count | Should -Be 52
        foreach ($r in $results) { $r.IsValid | Should -Be (-not ($r.Findings | Where-Object Severity -eq 'Error')) }
        ($results | Where-Object IsValid).Count | Should -BeGreaterThan 0
    }
}
