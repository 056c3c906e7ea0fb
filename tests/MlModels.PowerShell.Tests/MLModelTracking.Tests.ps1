BeforeDiscovery {
    $python = '/usr/bin/python3'
    $hasPython = (Test-Path $python) -and ($(& $python -c 'import sklearn, pandas, cloudpickle' 2>$null; $LASTEXITCODE) -eq 0)
    if (-not $hasPython -and $env:CI) { throw 'CI must install python3-sklearn, python3-pandas and python3-cloudpickle.' }
    $skipPython = -not $hasPython
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Corpus = Join-Path $RepoRoot 'tests/conformance/tracking'
    # The replaying fake of MLflow's tracking server (tests/MlModels.TrackingFake), served over HTTP on 127.0.0.1.
    $fakeProject = Join-Path $RepoRoot 'tests/MlModels.TrackingFake'
    $fakeDll = Join-Path $fakeProject 'bin/Release/net8.0/MlModels.TrackingFake.dll'
    if (-not (Test-Path $fakeDll)) { dotnet build $fakeProject -c Release --nologo -v quiet | Out-Null }
    Add-Type -Path $fakeDll
    $script:Run1 = [MlModels.TrackingFake.TrackingReplay]::RunId(1)
    $script:Exp1 = [MlModels.TrackingFake.TrackingReplay]::ExperimentId(1)

    function Start-Fake([string[]] $Flows, [hashtable] $Options = @{}) {
        $o = [MlModels.TrackingFake.ReplayOptions]::new()
        $o.Flows = [string[]]$Flows
        foreach ($k in $Options.Keys) { $o.$k = $Options[$k] }
        $script:Fake = [MlModels.TrackingFake.ReplayHttpServer]::Start($Corpus, $o)
        $env:MLFLOW_TRACKING_URI = $Fake.Uri
        $script:Fake
    }
    function Assert-AllMatched {
        $Fake.Replay.Mismatches | Should -BeNullOrEmpty
    }

    $saved = @{}
    foreach ($v in 'MLFLOW_TRACKING_URI', 'MLFLOW_REGISTRY_URI', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLMODELS_MODEL_CACHE', 'MLFLOW_HTTP_REQUEST_MAX_RETRIES') {
        $saved[$v] = [Environment]::GetEnvironmentVariable($v)
        [Environment]::SetEnvironmentVariable($v, $null)
    }
    $script:SavedEnv = $saved
}

AfterAll {
    foreach ($k in $SavedEnv.Keys) { [Environment]::SetEnvironmentVariable($k, $SavedEnv[$k]) }
}

Describe 'Get-MLModel -Uri' {
    BeforeEach {
        $env:MLMODELS_MODEL_CACHE = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
    }
    AfterEach {
        if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null }
        Remove-Item Env:MLFLOW_TRACKING_URI, Env:MLFLOW_TRACKING_TOKEN, Env:MLFLOW_TRACKING_USERNAME, Env:MLFLOW_TRACKING_PASSWORD -ErrorAction Ignore
    }

    It 'loads models:/name@alias and records where it came from' -Tag 'Cloud' {
        Start-Fake 'download-models-alias-uri'
        $m = Get-MLModel -Uri 'models:/sk-ridge@champion'
        Assert-AllMatched
        $Fake.Replay.Unconsumed('download-models-alias-uri') | Should -BeNullOrEmpty
        $m.FlavorNames | Should -Be @('python_function', 'sklearn')
        $m.Origin.Uri | Should -Be 'models:/sk-ridge@champion'
        $m.Origin.RegisteredModelName | Should -Be 'sk-ridge'
        $m.Origin.Version | Should -Be '1'
        $m.Origin.Alias | Should -Be 'champion'
        $m.Origin.RunId | Should -Be $Run1
        $m.Path | Should -BeLike "$($env:MLMODELS_MODEL_CACHE)*"
        (Get-FileHash (Join-Path $m.Path 'model.pkl')).Hash | Should -Be (Get-FileHash (Join-Path $Corpus 'fixture-model/model.pkl')).Hash
    }

    It 'loads runs:/, models:/name/version and mlflow-artifacts:/ URIs from the pipeline by property name' -Tag 'Cloud' {
        Start-Fake 'download-runs-uri', 'download-models-version-uri', 'download-mlflow-artifacts-uri'
        $models = @(
            [pscustomobject]@{ ModelUri = "runs:/$Run1/model" }
            [pscustomobject]@{ ModelUri = 'models:/sk-ridge/1' }
            [pscustomobject]@{ ModelUri = "mlflow-artifacts:/$Exp1/$Run1/artifacts/model" }
        ) | Get-MLModel
        Assert-AllMatched
        $models.Count | Should -Be 3
        $models.Origin.RunId | Should -Be @($Run1, $Run1, $Run1)
        $models[1].Origin.Version | Should -Be '1'
    }

    It 'reuses the cache, and -Force downloads again' -Tag 'Cloud' {
        Start-Fake 'download-models-version-uri'
        $first = Get-MLModel -Uri 'models:/sk-ridge/1'
        $calls = $Fake.Replay.Calls.Count
        $again = Get-MLModel -Uri 'models:/sk-ridge/1'
        $Fake.Replay.Calls.Count | Should -Be $calls
        $again.Origin.FromCache | Should -BeTrue
        $again.Path | Should -Be $first.Path
        $null = Get-MLModel -Uri 'models:/sk-ridge/1' -Force
        $Fake.Replay.Calls.Count | Should -Be (2 * $calls)
        Assert-AllMatched
    }

    It 'sends the bearer token from MLFLOW_TRACKING_TOKEN, and Basic auth from -Credential' -Tag 'Cloud' {
        Start-Fake 'download-models-version-uri' @{ RequiredAuthorization = 'Bearer tok-1' }
        $env:MLFLOW_TRACKING_TOKEN = 'tok-1'
        $null = Get-MLModel -Uri 'models:/sk-ridge/1'
        Assert-AllMatched
        $Fake.Dispose()

        $basic = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('conformance:pw'))
        Start-Fake 'download-models-version-uri' @{ RequiredAuthorization = $basic }
        $cred = [pscredential]::new('conformance', (ConvertTo-SecureString 'pw' -AsPlainText -Force))
        $m = Get-MLModel -Uri 'models:/sk-ridge/1' -Credential $cred -Force
        $m.Origin.Version | Should -Be '1'
        $Fake.Replay.Calls.Authorization | Sort-Object -Unique | Should -Be $basic
    }

    It 'says which credential was refused and how to set another' -Tag 'Cloud' {
        Start-Fake 'download-models-version-uri' @{ RequiredAuthorization = 'Bearer right' }
        $env:MLFLOW_TRACKING_TOKEN = 'wrong'
        $null = Get-MLModel -Uri 'models:/sk-ridge/1' -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'TrackingUnauthorized'
        $errs[0].Exception.Message | Should -Match 'bearer token \(MLFLOW_TRACKING_TOKEN\)'
        $errs[0].Exception.Message | Should -Match 'MLFLOW_TRACKING_USERNAME'
    }

    It 'names an unknown version with MLflow''s error code' -Tag 'Cloud' {
        Start-Fake 'errors'
        $null = Get-MLModel -Uri 'models:/sk-ridge/99' -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'RESOURCE_DOES_NOT_EXIST'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be 'models:/sk-ridge/99'
        $errs[0].Exception.Message | Should -Match 'Model Version \(name=sk-ridge, version=99\) not found'
    }

    It 'lists the accepted kinds for a URI that is none of them' -Tag 'Fast' {
        $env:MLFLOW_TRACKING_URI = 'http://127.0.0.1:9'
        $null = Get-MLModel -Uri 'hdfs://namenode/model' -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'InvalidModelUri'
        $errs[0].Exception.Message | Should -Match ([regex]::Escape('models:/<name>@<alias>'))
    }

    It 'names the URI and the variable when the server does not answer' -Tag 'Fast' {
        $env:MLFLOW_TRACKING_URI = 'http://127.0.0.1:9'
        $env:MLFLOW_HTTP_REQUEST_MAX_RETRIES = '0'
        try { $null = Get-MLModel -Uri 'models:/sk-ridge/1' -ErrorVariable errs -ErrorAction SilentlyContinue }
        finally { Remove-Item Env:MLFLOW_HTTP_REQUEST_MAX_RETRIES }
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'TrackingServerUnreachable'
        $errs[0].Exception.Message | Should -Match 'http://127.0.0.1:9 \(from MLFLOW_TRACKING_URI\)'
    }

    It 'says which variable to set when no server is configured' -Tag 'Fast' {
        { Get-MLModel -Uri 'models:/sk-ridge/1' -ErrorAction Stop } | Should -Throw '*MLFLOW_TRACKING_URI*'
    }

    It 'leaves no cache entry when a download is cut off, and the next call succeeds' -Tag 'Cloud' {
        Start-Fake 'download-models-version-uri' @{ CutOffDownloadEndingWith = 'model.pkl' }
        $null = Get-MLModel -Uri 'models:/sk-ridge/1' -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ArtifactDownloadFailed'
        $errs[0].Exception.Message | Should -Match 'model\.pkl'
        @(Get-ChildItem $env:MLMODELS_MODEL_CACHE -Recurse -File) | Should -BeNullOrEmpty
        $m = Get-MLModel -Uri 'models:/sk-ridge/1'
        $m.Origin.FromCache | Should -BeFalse
        (Get-FileHash (Join-Path $m.Path 'model.pkl')).Hash | Should -Be (Get-FileHash (Join-Path $Corpus 'fixture-model/model.pkl')).Hash
    }
}

Describe 'Scoring a registry model' -Tag 'Python', 'Cloud' -Skip:$skipPython {
    BeforeAll { $env:MLMODELS_PYTHON = '/usr/bin/python3' }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore }
    AfterEach { if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null } }

    It 'pipes models:/name@champion into Invoke-MLModelPrediction' {
        $env:MLMODELS_MODEL_CACHE = Join-Path $TestDrive 'cache'
        Start-Fake 'download-models-alias-uri'
        $csv = Join-Path $TestDrive 'x.csv'
        "a,b,c`n0.5,1.0,-2.0`n1.5,-0.25,0.75" | Set-Content $csv
        $out = Get-MLModel -Uri 'models:/sk-ridge@champion' | Invoke-MLModelPrediction -InputCsv $csv
        $pkl = Join-Path $Corpus 'fixture-model/model.pkl'
        $expected = & /usr/bin/python3 -c "import pickle,sys; m=pickle.load(open(sys.argv[1],'rb')); import pandas as pd; print('\n'.join(repr(float(v)) for v in m.predict(pd.DataFrame([[0.5,1.0,-2.0],[1.5,-0.25,0.75]], columns=list('abc')))))" $pkl
        $out.Count | Should -Be 2
        for ($i = 0; $i -lt 2; $i++) { [double]$out[$i].PSObject.Properties.Value[0] | Should -BeGreaterOrEqual ([double]$expected[$i] - 1e-9); [double]$out[$i].PSObject.Properties.Value[0] | Should -BeLessOrEqual ([double]$expected[$i] + 1e-9) }
    }
}

Describe 'Registry cmdlets' -Tag 'Cloud' {
    AfterEach {
        if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null }
        Remove-Item Env:MLFLOW_TRACKING_URI -ErrorAction Ignore
    }

    It 'gets a version by number, by alias, by stage, and every version of a model' {
        Start-Fake 'registry'
        $v = Get-MLModelVersion sk-ridge -Version 1
        $v.GetType().FullName | Should -Be 'MlModels.Core.Tracking.ModelVersion'
        $v.Status | Should -Be 'READY'
        $v.Source | Should -Be "mlflow-artifacts:/$Exp1/$Run1/artifacts/model"
        $v.ModelUri | Should -Be 'models:/sk-ridge/1'
        (Get-MLModelVersion sk-ridge -Alias champion).Version | Should -Be '1'
        (Get-MLModelVersion sk-ridge).Version | Should -Be @('2', '1')
        $Fake.Replay.Calls[-1].PathAndQuery | Should -Be '/api/2.0/mlflow/model-versions/search?filter=name%3D%27sk-ridge%27&max_results=10000'
        (Get-MLModelVersion sk-ridge -Stage Staging).CurrentStage | Should -Be 'Staging'
        Assert-AllMatched
        ($v | Format-Table | Out-String) | Should -Match 'sk-ridge\s+1'
    }

    It 'names an unknown version with MLflow''s error code' {
        Start-Fake 'errors'
        $null = Get-MLModelVersion sk-ridge -Version 99 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'RESOURCE_DOES_NOT_EXIST,MlModels.PowerShell.Commands.GetMLModelVersionCommand'
        $errs[0].TargetObject | Should -Be 'models:/sk-ridge/99'
        $null = Get-MLModelVersion sk-ridge -Alias challenger -ErrorVariable errs2 -ErrorAction SilentlyContinue
        $errs2[0].Exception.Message | Should -Match 'models:/sk-ridge@challenger: Registered model alias challenger not found'
    }

    It 'sets alias, tags and stage with the calls MLflow makes, and lists them with -WhatIf' {
        Start-Fake 'registry'
        Set-MLModelVersion sk-ridge 1 -Alias champion -Tag @{ validated = 'true' } -Stage Staging -WhatIf
        $Fake.Replay.Calls.Count | Should -Be 0
        $v = Set-MLModelVersion sk-ridge 1 -Alias champion -Tag @{ validated = 'true' } -Stage Staging -PassThru
        Assert-AllMatched
        ($Fake.Replay.Calls | ForEach-Object { $_.Matched.Step }) | Should -Be @('set-alias', 'set-model-version-tag', 'transition-stage', 'get-model-version')
        $v.Version | Should -Be '1'
        Set-MLModelVersion sk-ridge 1 -RemoveTag validated
        $Fake.Replay.Calls[-1].Matched.Step | Should -Be 'delete-model-version-tag'
    }

    It 'removes an alias after confirmation, leaving the version' {
        Start-Fake 'registry-delete-alias'
        Remove-MLModelVersion sk-ridge -Alias champion -WhatIf
        $Fake.Replay.Calls.Count | Should -Be 0
        Remove-MLModelVersion sk-ridge -Alias champion -Confirm:$false
        $null = Get-MLModelVersion sk-ridge -Alias champion -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'INVALID_PARAMETER_VALUE'
        Assert-AllMatched
        (Get-Command Remove-MLModelVersion).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    It 'completes aliases from the registry, and nothing when no server answers' {
        Start-Fake 'registry'
        Set-MLModelVersion sk-ridge 1 -Alias champion
        $completions = (TabExpansion2 -inputScript 'Get-MLModelVersion -Name sk-ridge -Alias ch' -cursorColumn 43).CompletionMatches
        $completions.CompletionText | Should -Be @('champion')
        $completions[0].ToolTip | Should -Match 'version 1'
        $env:MLFLOW_TRACKING_URI = 'http://127.0.0.1:9'
        (TabExpansion2 -inputScript 'Get-MLModelVersion -Name sk-ridge -Alias ch' -cursorColumn 43).CompletionMatches | Should -BeNullOrEmpty
    }

    It 'pipes a version into Get-MLModel by its model URI' {
        Start-Fake 'registry', 'download-models-version-uri'
        $env:MLMODELS_MODEL_CACHE = Join-Path $TestDrive 'pipe-cache'
        $m = Get-MLModelVersion sk-ridge -Version 1 | Get-MLModel
        $m.Origin.Uri | Should -Be 'models:/sk-ridge/1'
        $m.FlavorNames | Should -Contain 'sklearn'
        Assert-AllMatched
    }
}

Describe 'Publish-MLModel' -Tag 'Cloud' {
    BeforeAll {
        # The recorded model as log_model saved it for run 1.
        function New-FixtureModel([string] $RunId = $Run1) {
            $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            Copy-Item (Join-Path $Corpus 'fixture-model') $dir -Recurse
            foreach ($f in 'MLmodel', 'metadata/MLmodel') {
                $p = Join-Path $dir $f
                [IO.File]::WriteAllText($p, [IO.File]::ReadAllText($p).Replace('<run_id:1>', $RunId))
            }
            $dir
        }
    }
    AfterEach {
        if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null }
        Remove-Item Env:MLFLOW_TRACKING_URI -ErrorAction Ignore
    }

    It 'logs a model to a run and registers it with the requests MLflow makes' {
        Start-Fake 'log-model', 'registry'
        $v = Get-MLModel (New-FixtureModel) | Publish-MLModel -RunId $Run1 -RegisteredModelName sk-ridge -Alias champion -Tag @{ validated = 'true' }
        Assert-AllMatched
        $Fake.Replay.Unconsumed('log-model') | Should -BeNullOrEmpty
        $v.GetType().FullName | Should -Be 'MlModels.Core.Tracking.ModelVersion'
        $v.Name | Should -Be 'sk-ridge'
        $v.Version | Should -Be '1'
        $v.Status | Should -Be 'READY'
        @($Fake.Replay.Calls | Where-Object Method -eq 'PUT').Count | Should -Be 10
    }

    It 'lists the calls with -WhatIf and makes none' {
        Start-Fake 'log-model'
        # What-if lines go to the host, so the command runs in a fresh pwsh whose output is captured.
        $out = Invoke-FreshPwsh "Import-Module '$ModulePath'; `$env:MLFLOW_TRACKING_URI = '$($Fake.Uri)'; Publish-MLModel -Path '$(New-FixtureModel)' -RunId $Run1 -RegisteredModelName sk-ridge -WhatIf" | Out-String
        $Fake.Replay.Calls.Count | Should -Be 0
        $out | Should -Match 'PUT mlflow-artifacts/artifacts'
        $out | Should -Match 'model/metadata/MLmodel'
        $out | Should -Match 'POST runs/log-model'
        $out | Should -Match 'POST model-versions/create'
    }

    It 'refuses -Alias without -RegisteredModelName' {
        Start-Fake 'log-model'
        $null = Publish-MLModel -Path (New-FixtureModel) -RunId $Run1 -Alias champion -ErrorVariable errs -ErrorAction SilentlyContinue
        ($errs[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'InvalidPublishRequest'
        $Fake.Replay.Calls.Count | Should -Be 0
    }
}

Describe 'docs/examples/Promote-Champion.ps1' -Tag 'Python', 'Cloud' -Skip:$skipPython {
    BeforeAll { $env:MLMODELS_PYTHON = '/usr/bin/python3' }
    AfterAll { Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore }
    AfterEach { if ($script:Fake) { $script:Fake.Dispose(); $script:Fake = $null } }

    It 'loads the champion, scores a sample, compares a candidate and moves the alias (-WhatIf)' {
        $env:MLMODELS_MODEL_CACHE = Join-Path $TestDrive 'example-cache'
        Start-Fake 'download-models-alias-uri', 'download-models-version-runs-source'
        $csv = Join-Path $TestDrive 'holdout.csv'
        "a,b,c,y`n0.5,1.0,-2.0,0.1`n1.5,-0.25,0.75,0.4`n-1,0,1,-0.2" | Set-Content $csv
        $script = Join-Path $RepoRoot 'docs/examples/Promote-Champion.ps1'
        # What-if lines go to the host, so the script runs in a fresh pwsh whose output is captured.
        $evidence = Join-Path $TestDrive 'evaluation'
        $out = Invoke-FreshPwsh "Import-Module '$ModulePath'; `$env:MLFLOW_TRACKING_URI = '$($Fake.Uri)'; & '$script' -ModelName sk-ridge -CandidateVersion 2 -SampleCsv '$csv' -LabelColumn y -OutputPath '$evidence' -WhatIf | ConvertTo-Json -Compress"
        ($out | Out-String) | Should -Match "Move alias 'champion' from version 1"
        $result = $out | Where-Object { "$_".StartsWith('{') } | ConvertFrom-Json
        $result.ChampionVersion | Should -Be '1'
        $result.Metric | Should -Be 'root_mean_squared_error'
        $result.CandidateValue | Should -Be $result.ChampionValue # version 2 is the same model
        $result.ChampionValue | Should -BeGreaterThan 0
        $result.Promoted | Should -BeFalse
        (Get-Content (Join-Path $evidence 'metrics.json') -Raw | ConvertFrom-Json).example_count | Should -Be 3
        Assert-AllMatched
    }

    It 'stops with ModelValidationFailed when the candidate is not better by -MinAbsoluteChange, keeping the evidence' {
        $env:MLMODELS_MODEL_CACHE = Join-Path $TestDrive 'example-cache-gate'
        Start-Fake 'download-models-alias-uri', 'download-models-version-runs-source'
        $csv = Join-Path $TestDrive 'holdout-gate.csv'
        "a,b,c,y`n0.5,1.0,-2.0,0.1`n1.5,-0.25,0.75,0.4`n-1,0,1,-0.2" | Set-Content $csv
        $evidence = Join-Path $TestDrive 'evaluation-gate'
        $script = Join-Path $RepoRoot 'docs/examples/Promote-Champion.ps1'
        $failure = $null
        try { & $script -ModelName sk-ridge -CandidateVersion 2 -SampleCsv $csv -LabelColumn y -MinAbsoluteChange 0.01 -OutputPath $evidence -TrackingUri $Fake.Uri }
        catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        ($failure.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ModelValidationFailed'
        $failure.Exception.Message | Should -Match 'Metric root_mean_squared_error minimum absolute change check failed: candidate model root_mean_squared_error = [0-9.]+, baseline model root_mean_squared_error = [0-9.]+, root_mean_squared_error minimum absolute change threshold = 0.01\.'
        Join-Path $evidence 'metrics.json' | Should -Exist
        Join-Path $evidence 'artifacts/residuals_plot.png' | Should -Exist
        Join-Path $evidence 'artifacts/predicted_vs_actual_plot.png' | Should -Exist
        $Fake.Replay.Calls | Where-Object { $_.Method -eq 'POST' -and $_.PathAndQuery -match 'alias' } | Should -BeNullOrEmpty
    }
}
