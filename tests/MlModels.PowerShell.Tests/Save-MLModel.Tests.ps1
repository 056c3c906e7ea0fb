BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Save-MLModel' -Tag 'Fast' {
    It 'writes a new model that reads back the same' {
        $target = Join-Path $TestDrive 'new'
        New-MLModel -RunId 'r1' -Metadata @{ owner = 'ops'; nested = @{ list = 1, 2 } } |
            Add-MLFlavor python_function @{ loader_module = 'mlflow.onnx'; python_version = '3.10' } -PassThru |
            Save-MLModel -Path $target
        $text = Get-Content (Join-Path $target 'MLmodel') -Raw
        $text | Should -Match "python_version: '3.10'"
        $text | Should -Match "model_uuid: [0-9a-f]{32}"
        $text | Should -Match "utc_time_created: '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?'"
        $m = Get-MLModel $target
        $m.RunId | Should -Be 'r1'
        $m.Metadata['nested']['list'] | Should -Be @(1, 2)
    }

    It 'refuses to overwrite without -Force, and says so with a specific error' {
        $target = Join-Path $TestDrive 'exists'
        New-MLModel | Add-MLFlavor onnx -PassThru | Save-MLModel -Path $target
        $before = Get-Content (Join-Path $target 'MLmodel') -Raw
        New-MLModel -RunId other | Add-MLFlavor onnx -PassThru | Save-MLModel -Path $target -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'ModelExists,MlModels.PowerShell.Commands.SaveMLModelCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        Get-Content (Join-Path $target 'MLmodel') -Raw | Should -Be $before
        New-MLModel -RunId other | Add-MLFlavor onnx -PassThru | Save-MLModel -Path $target -Force
        (Get-MLModel $target).RunId | Should -Be 'other'
    }

    It 'writes nothing with -WhatIf' {
        $target = Join-Path $TestDrive 'whatif'
        New-MLModel | Add-MLFlavor onnx -PassThru | Save-MLModel -Path $target -WhatIf
        $target | Should -Not -Exist
    }

    It 'copies every file of a loaded model saved elsewhere, and keeps every field' {
        $src = Get-Item (Join-Path $Conformance '014-*')
        $target = Join-Path $TestDrive 'copy'
        $saved = Get-MLModel $src.FullName | Save-MLModel -Path $target -PassThru
        (Get-ChildItem $target -Recurse -File).Name | Sort-Object | Should -Be ((Get-ChildItem $src -Recurse -File).Name | Sort-Object)
        $saved.Signature.ToJson() | Should -Be (Get-MLModel $src.FullName).Signature.ToJson()
        $saved.Path | Should -Be $target
    }

    It 'writes a model in the first pyfunc layout in the current layout, and warns that it does' {
        $target = Join-Path $TestDrive 'first-layout'
        Get-MLModel (Join-Path $Examples 'pyfunc-first-layout') | Save-MLModel -Path $target -WarningVariable warn 3>$null
        $warn.Count | Should -Be 1
        $warn[0] | Should -Match 'first pyfunc layout.*current layout'
        $text = Get-Content (Join-Path $target 'MLmodel') -Raw
        $text | Should -Match "(?m)^flavors:\n  python_function:\n"
        $text | Should -Match 'loader_module: linear_model'
        (Get-MLModel $target).IsFirstPyfuncLayout | Should -BeFalse
    }

    It 'saves in place with -Force' {
        $dir = Join-Path $TestDrive 'inplace'
        Copy-Item (Join-Path $Examples 'pyfunc-custom') $dir -Recurse
        $m = Get-MLModel $dir
        $m.RunId = 'abc'
        $m | Save-MLModel -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $m | Save-MLModel -Force
        (Get-MLModel $dir).RunId | Should -Be 'abc'
        Join-Path $dir 'code/linear_model.py' | Should -Exist
    }

    It 'does not follow a symlink that leads out of the model, and warns' -Skip:$IsWindows {
        $outside = New-Item -ItemType Directory (Join-Path $TestDrive 'outside')
        Set-Content (Join-Path $outside 'secret.txt') 'secret'
        $dir = New-TestModel (Join-Path $TestDrive 'linked') "flavors:`n  onnx: {data: model.onnx}`n"
        Set-Content (Join-Path $dir 'model.onnx') 'x'
        New-Item -ItemType SymbolicLink -Path (Join-Path $dir 'leak') -Target (Join-Path $outside 'secret.txt') | Out-Null
        $target = Join-Path $TestDrive 'linked-copy'
        Get-MLModel $dir | Save-MLModel -Path $target -WarningVariable warn 3>$null
        Join-Path $target 'leak' | Should -Not -Exist
        Join-Path $target 'model.onnx' | Should -Exist
        $warn[0] | Should -Match 'leak'
    }
}

Describe 'Add-MLFlavor, Remove-MLFlavor and Set-MLModelSignature' -Tag 'Fast' {
    It 'adds a flavor with nested attributes and refuses a duplicate without -Force' {
        $m = New-MLModel | Add-MLFlavor onnx @{ data = 'model.onnx'; providers = @('CUDAExecutionProvider', 'CPUExecutionProvider'); opts = @{ threads = 2 } } -PassThru
        $m.Flavors['onnx'].Attributes['providers'] | Should -Be @('CUDAExecutionProvider', 'CPUExecutionProvider')
        $m | Add-MLFlavor onnx @{ data = 'x' } -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'FlavorExists'
        $m | Add-MLFlavor onnx @{ data = 'x' } -Force
        $m.Flavors['onnx'].Data | Should -Be 'x'
    }

    It 'refuses attribute values YAML cannot hold' {
        New-MLModel | Add-MLFlavor x @{ bad = [System.IO.MemoryStream]::new() } -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'InvalidFlavorAttributes'
        $err[0].Exception.Message | Should -Match 'flavors.x.bad'
    }

    It 'removes flavors by wildcard and reports a missing name' {
        $m = New-MLModel | Add-MLFlavor a1 -PassThru | Add-MLFlavor a2 -PassThru | Add-MLFlavor b -PassThru
        $m | Remove-MLFlavor 'a*' -Confirm:$false
        $m.FlavorNames | Should -Be @('b')
        $m | Remove-MLFlavor nope -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'FlavorNotFound'
    }

    It 'sets a signature from hashtables, tensors and params' {
        $m = New-MLModel | Set-MLModelSignature -Inputs @{ name = 'x'; type = 'double' }, @{ name = 'n'; type = 'string'; required = $false } -Outputs @{ dtype = 'float32'; shape = -1, 2 } -Params @{ name = 'k'; type = 'long'; default = 3 } -PassThru
        "$($m.Signature.Inputs)" | Should -Be 'x: double, n: string (optional)'
        $m.Signature.Outputs.Tensors[0].Shape | Should -Be @(-1, 2)
        $m.Signature.Params.Params[0].Default | Should -Be 3
    }

    It 'infers a signature from a CSV file and from objects' {
        $csv = Join-Path $TestDrive 'x.csv'
        Set-Content $csv "a,b,c`n1,2.5,x`n2,,y"
        (New-MLModel | Set-MLModelSignature -InferFrom $csv -PassThru).Signature.Inputs.ToString() | Should -Be 'a: long, b: double (optional), c: string'
        $rows = [pscustomobject]@{ n = 1; d = 2.5; s = 'a' }, [pscustomobject]@{ n = 2; d = 3.0; s = 'b' }
        (New-MLModel | Set-MLModelSignature -InferFrom $rows -PassThru).Signature.Inputs.ToString() | Should -Be 'n: integer, d: double, s: string'
    }

    It 'takes MLflow signature JSON and rejects bad JSON with a clear error' {
        $m = New-MLModel | Set-MLModelSignature -Json '{"inputs": "[{\"type\": \"long\", \"name\": \"a\"}]", "outputs": null}' -PassThru
        $m.Signature.Inputs.Columns[0].Type | Should -Be 'Long'
        { New-MLModel | Set-MLModelSignature -Json '{"inputs": "[{\"type\": \"nope\"}]"}' -ErrorAction Stop } | Should -Throw -ExpectedMessage '*nope*'
    }
}
