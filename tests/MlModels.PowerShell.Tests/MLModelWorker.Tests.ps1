BeforeDiscovery {
    $python = '/usr/bin/python3'
    $hasPython = (Test-Path $python) -and ($(& $python -c 'import sklearn, pandas, cloudpickle' 2>$null; $LASTEXITCODE) -eq 0)
    if (-not $hasPython -and $env:CI) { throw 'CI must install python3-sklearn, python3-pandas and python3-cloudpickle.' }
    $skip = -not $hasPython
}

Describe 'Warm Python workers (Invoke-MLModelPrediction, Get-MLModelWorker, Clear-MLModelWorkerCache)' -Tag 'Python' -Skip:$skip {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        $models = Join-Path $TestDrive 'pym'
        & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $models | Out-Null
        $model = Join-Path $models 'sklearn-linear-pickle'
        $x10 = Join-Path $TestDrive 'x10.csv'
        Get-Content (Join-Path $models 'input.csv') -TotalCount 11 | Set-Content $x10
        $expected = @(Import-Csv (Join-Path $models 'expected/sklearn-linear-pickle.csv') | Select-Object -First 10)

        # Scores the 10 rows with -Verbose; returns the predictions and the worker line the cmdlet wrote.
        function Invoke-Scoring([string[]] $Extra = @()) {
            $extraArgs = @{}
            if ('-NoCache' -in $Extra) { $extraArgs.NoCache = $true }
            $all = Invoke-MLModelPrediction -Path $model -InputCsv $x10 -Verbose @extraArgs 4>&1
            $line = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message |
                Where-Object { $_ -match "process (\d+)\) (loaded 'sklearn-linear-pickle'|reused)" })
            $line.Count | Should -Be 1 -Because 'the cmdlet names the worker it scored with'
            $null = $line[0] -match 'process (\d+)\)'
            [pscustomobject]@{
                Pid        = [int]$Matches[1]
                Reused     = $line[0] -match 'reused, warm'
                Prediction = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] } | ForEach-Object prediction)
            }
        }

        function Wait-ProcessExit([int] $Id) {
            $deadline = [datetime]::UtcNow.AddSeconds(15)
            while ([datetime]::UtcNow -lt $deadline) {
                if (-not (Get-Process -Id $Id -ErrorAction Ignore)) { return $true }
                Start-Sleep -Milliseconds 100
            }
            $false
        }

        function Assert-Expected($prediction) {
            $prediction.Count | Should -Be 10
            for ($i = 0; $i -lt 10; $i++) { [math]::Abs([double]$prediction[$i] - [double]$expected[$i].prediction) | Should -BeLessThan 1e-9 }
        }
    }
    BeforeEach { Clear-MLModelWorkerCache -Confirm:$false }
    AfterAll {
        Clear-MLModelWorkerCache -Confirm:$false
        Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore
    }

    It 'reuses the worker for a second call on the same model in the session' {
        $first = Invoke-Scoring
        $second = Invoke-Scoring
        $first.Reused | Should -BeFalse
        $second.Reused | Should -BeTrue
        $second.Pid | Should -Be $first.Pid
        Assert-Expected $first.Prediction
        Assert-Expected $second.Prediction
        $worker = Get-MLModelWorker -LiteralPath $model
        $worker.ProcessId | Should -Be $first.Pid
        $worker.Calls | Should -Be 2
        $worker.InUse | Should -BeFalse
        Get-Process -Id $first.Pid | Should -Not -BeNullOrEmpty
    }

    It 'starts a new worker when the model changes on disk, and the old one exits' {
        $first = Invoke-Scoring
        Add-Content -Path (Join-Path $model 'MLmodel') -Value '# edited after the first call'
        $second = Invoke-Scoring
        $second.Reused | Should -BeFalse
        $second.Pid | Should -Not -Be $first.Pid
        Assert-Expected $second.Prediction
        Wait-ProcessExit $first.Pid | Should -BeTrue -Because "the worker of the old model ($($first.Pid)) stops"
        @(Get-MLModelWorker).ProcessId | Should -Be @($second.Pid)
    }

    It '-NoCache starts a worker for the call alone and stops it after' {
        $run = Invoke-Scoring -Extra '-NoCache'
        Assert-Expected $run.Prediction
        Wait-ProcessExit $run.Pid | Should -BeTrue
        @(Get-MLModelWorker) | Should -HaveCount 0
    }

    It 'Clear-MLModelWorkerCache keeps the worker under -WhatIf and stops it otherwise' {
        $run = Invoke-Scoring
        Clear-MLModelWorkerCache -Path $model -WhatIf
        (Get-MLModelWorker).ProcessId | Should -Be $run.Pid
        $stopped = Get-MLModelWorker | Clear-MLModelWorkerCache -PassThru -Confirm:$false
        $stopped.ProcessId | Should -Be $run.Pid
        Wait-ProcessExit $run.Pid | Should -BeTrue
        @(Get-MLModelWorker) | Should -HaveCount 0
        (Invoke-Scoring).Pid | Should -Not -Be $run.Pid
    }

    It 'stops an idle worker after MLMODELS_WORKER_IDLE_SECONDS, in a fresh session' {
        $out = Invoke-FreshPwsh "`$env:MLMODELS_PYTHON = '/usr/bin/python3'; `$env:MLMODELS_WORKER_IDLE_SECONDS = '1'; Import-Module '$ModulePath'; Invoke-MLModelPrediction -Path '$model' -InputCsv '$x10' | Out-Null; 'pid=' + (Get-MLModelWorker).ProcessId; Start-Sleep -Seconds 4; 'left=' + @(Get-MLModelWorker).Count"
        $text = $out -join "`n"
        $text | Should -Match 'pid=(\d+)'
        $id = [int]([regex]::Match($text, 'pid=(\d+)').Groups[1].Value)
        $text | Should -Match 'left=0'
        Wait-ProcessExit $id | Should -BeTrue
    }

    It 'leaves no worker behind when the session exits' {
        $out = Invoke-FreshPwsh "`$env:MLMODELS_PYTHON = '/usr/bin/python3'; Import-Module '$ModulePath'; Invoke-MLModelPrediction -Path '$model' -InputCsv '$x10' | Out-Null; 'pid=' + (Get-MLModelWorker).ProcessId"
        $text = $out -join "`n"
        $text | Should -Match 'pid=(\d+)'
        Wait-ProcessExit ([int]([regex]::Match($text, 'pid=(\d+)').Groups[1].Value)) | Should -BeTrue
    }

    It 'formats workers as a table' {
        $run = Invoke-Scoring
        $text = Get-MLModelWorker | Format-Table | Out-String -Width 250
        $text | Should -Match "ProcessId\s+Model\s+Python"
        $text | Should -Match "$($run.Pid)\s+sklearn-linear-pickle"
    }
}
