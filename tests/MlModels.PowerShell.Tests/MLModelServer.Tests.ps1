BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $env:MLMODELS_STATE_DIR = Join-Path $TestDrive 'state'
    $linear = Save-MLModel -OnnxModel (Join-Path $RepoRoot 'tests/fixtures/onnx/linear.onnx') -Path (Join-Path $TestDrive 'linear') -PassThru 3>$null
    $ports = Get-FreePort -Count 12
    $port = $ports[0]
}
AfterAll {
    Get-MLModelServer | Stop-MLModelServer
    Remove-Item Env:MLMODELS_STATE_DIR -ErrorAction Ignore
}

Describe 'Start-MLModelServer, Get-MLModelServer, Stop-MLModelServer' -Tag 'Fast' {
    It 'serves a model in the background that an MLflow request body scores' {
        $s = $linear | Start-MLModelServer -Background -Port $port
        $s.Url | Should -Be "http://127.0.0.1:$port"
        $s.IsRunning | Should -BeTrue
        (Invoke-WebRequest "$($s.Url)/ping").StatusCode | Should -Be 200
        $r = Invoke-RestMethod -Method Post -Uri "$($s.Url)/invocations" -ContentType 'application/json' -Body '{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]]}}'
        $r.predictions[0].variable | Should -Be 4.75
        $csv = Invoke-RestMethod -Method Post -Uri "$($s.Url)/invocations" -ContentType 'text/csv' -Body "a,b,c`n0,0,0`n"
        $csv.predictions[0].variable | Should -Be 0.25
        # A background server's request log goes to its log file, one JSON line per request: wait for the lines themselves.
        $log = Wait-Until { @(Get-Content $s.LogPath | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object path -eq '/invocations') } { $args[0].Count -ge 2 }
        $log.status | Should -Be @(200, 200)
    }

    It 'answers the Open Inference Protocol (V2) under -ModelName beside MLflow''s routes' {
        $s = $linear | Start-MLModelServer -Background -Port $ports[8] -ModelName churn
        try {
            (Invoke-RestMethod "$($s.Url)/v2/health/ready").ready | Should -BeTrue
            $meta = Invoke-RestMethod "$($s.Url)/v2/models/churn"
            $meta.name | Should -Be 'churn'
            $meta.versions | Should -Be @('1')
            $body = '{"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 0, 0, 0]}]}'
            $r = Invoke-RestMethod -Method Post -Uri "$($s.Url)/v2/models/churn/infer" -ContentType 'application/json' -Body $body
            $r.model_name | Should -Be 'churn'
            $r.outputs[0].data | Should -Be @(4.75, 0.25)
            $missing = Invoke-WebRequest "$($s.Url)/v2/models/linear" -SkipHttpErrorCheck
            $missing.StatusCode | Should -Be 404
            ($missing.Content | ConvertFrom-Json).error | Should -Not -BeNullOrEmpty
        }
        finally { $s | Stop-MLModelServer }
    }

    It 'serves the Open Inference Protocol''s gRPC service on -GrpcPort, as the Node gRPC client finds it' {
        $s = Get-MLModel (Join-Path $Examples 'onnx-linear') | Start-MLModelServer -Background -Port $ports[9] -GrpcPort $ports[10] -ModelName linear
        try {
            $s.GrpcAddress | Should -Be "127.0.0.1:$($ports[10])"
            (Get-MLModelServer | Where-Object ProcessId -eq $s.ProcessId).GrpcPort | Should -Be $ports[10]
            # The example has no params and the default body limit: the cases that need either are left out.
            $r = Invoke-GrpcClient @{ linear = $s.GrpcAddress } '^(?!.*(params|RESOURCE_EXHAUSTED))'
            if ($null -eq $r) { return }
            $r.failed | Should -Be 0 -Because $r.Lines
            $r.ran | Should -BeGreaterOrEqual 10 -Because $r.Lines
        }
        finally { $s | Stop-MLModelServer }
    }

    It 'writes ONNX Runtime''s own log lines to its log as JSON, not raw to the console' {
        $old = Save-MLModel -OnnxModel (Join-Path $RepoRoot 'tests/fixtures/onnx/old-opset.onnx') -Path (Join-Path $TestDrive 'old-opset') -PassThru 3>$null
        $s = $old | Start-MLModelServer -Background -Port $ports[11]
        try {
            $r = Invoke-RestMethod -Method Post -Uri "$($s.Url)/invocations" -ContentType 'application/json' -Body '{"inputs": [[1, -2]]}'
            @($r.predictions).Count | Should -Be 1
            $text = Wait-Until { Get-Content $s.LogPath -Raw } { $args[0] -match 'ONNX Runtime warning' }
            $text | Should -Not -Match '\[W:onnxruntime'
            $messages = (Get-Content $s.LogPath | ForEach-Object { $_ | ConvertFrom-Json }).message
            ($messages -join "`n") | Should -Match 'ONNX Runtime warning .*opset 6'
        }
        finally { $s | Stop-MLModelServer }
    }

    It 'lists the running server, and stops it gracefully from the pipeline' {
        $found = Get-MLModelServer -Port $port
        $found.ModelName | Should -Be 'linear'
        $found | Stop-MLModelServer -PassThru | Should -Not -BeNullOrEmpty
        Get-MLModelServer -Port $port | Should -BeNullOrEmpty
        { Invoke-RestMethod "http://127.0.0.1:$port/ping" -TimeoutSec 2 } | Should -Throw
    }

    It 'requires the API key when one is given' {
        $key = ConvertTo-SecureString 's3cret' -AsPlainText -Force
        $s = $linear | Start-MLModelServer -Background -Port $ports[1] -ApiKey $key
        try {
            $body = '{"inputs": [[1, 2, 3]]}'
            { Invoke-RestMethod -Method Post -Uri "$($s.Url)/invocations" -ContentType 'application/json' -Body $body } | Should -Throw '*401*'
            (Invoke-RestMethod -Method Post -Uri "$($s.Url)/invocations" -ContentType 'application/json' -Body $body -Headers @{ 'X-API-Key' = 's3cret' }).predictions.variable[0][0] | Should -Be 4.75
        }
        finally { $s | Stop-MLModelServer }
    }

    It 'reports a server that cannot start, with its reason' {
        $dir = New-TestModel (Join-Path $TestDrive 'noflavor') "flavors:`n  custom: {data: x}`n"
        Start-MLModelServer -Path $dir -Background -Port $ports[2] -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ServerStartFailed'
        $err[0].Exception.Message | Should -Match 'has no python_function flavor \(flavors: custom\)'
    }

    It 'runs in the foreground until stopped (Ctrl+C), then stops the server' {
        $fg = $ports[4]
        $ps = [powershell]::Create()
        $null = $ps.AddScript("`$env:MLMODELS_STATE_DIR = '$env:MLMODELS_STATE_DIR'; Import-Module '$ModulePath'; Start-MLModelServer -Path '$($linear.Path)' -Port $fg 3>`$null")
        $handle = $ps.BeginInvoke()
        try {
            $up = $false
            for ($i = 0; $i -lt 100 -and -not $up; $i++) {
                try { Invoke-RestMethod "http://127.0.0.1:$fg/ping" -TimeoutSec 2 | Out-Null; $up = $true } catch { Start-Sleep -Milliseconds 200 }
            }
            $up | Should -BeTrue
            # The server answers /ping a moment before Start-MLModelServer records it.
            for ($i = 0; $i -lt 50 -and -not (Get-MLModelServer -Port $fg); $i++) { Start-Sleep -Milliseconds 100 }
            (Get-MLModelServer -Port $fg).IsRunning | Should -BeTrue
            $ps.Stop()   # what Ctrl+C does: StopProcessing
            { Invoke-RestMethod "http://127.0.0.1:$fg/ping" -TimeoutSec 2 } | Should -Throw
            Get-MLModelServer -Port $fg | Should -BeNullOrEmpty
        }
        finally { $ps.Dispose() }
    }

    It 'stops a background server when the session that started it ends' {
        $bg = $ports[5]
        $out = Invoke-FreshPwsh "`$env:MLMODELS_STATE_DIR = '$env:MLMODELS_STATE_DIR'; Import-Module '$ModulePath'; (Start-MLModelServer -Path '$($linear.Path)' -Port $bg -Background 3>`$null).Url"
        ($out -join '') | Should -Match "http://127.0.0.1:$bg"
        $down = $false
        for ($i = 0; $i -lt 50 -and -not $down; $i++) {
            try { Invoke-RestMethod "http://127.0.0.1:$bg/ping" -TimeoutSec 1 | Out-Null; Start-Sleep -Milliseconds 200 } catch { $down = $true }
        }
        $down | Should -BeTrue
        # The process exits once its graceful shutdown is done.
        for ($i = 0; $i -lt 100 -and (Get-MLModelServer -Port $bg); $i++) { Start-Sleep -Milliseconds 100 }
        Get-MLModelServer -Port $bg | Should -BeNullOrEmpty
    }

    It 'keeps a -Detached server up after its session ends, until Stop-MLModelServer in another session stops it' {
        $dp = $ports[6]
        # Session 1 starts it and exits; it returns only if the server holds none of its output pipes.
        $out = Invoke-FreshPwsh "`$env:MLMODELS_STATE_DIR = '$env:MLMODELS_STATE_DIR'; Import-Module '$ModulePath'; `$s = Start-MLModelServer -Path '$($linear.Path)' -Port $dp -Detached 3>`$null; 'pid=' + `$s.ProcessId"
        ($out -join '') -match 'pid=(\d+)' | Should -BeTrue -Because ($out -join "`n")
        $serverPid = [int]$Matches[1]
        try {
            $r = Invoke-RestMethod -Method Post -Uri "http://127.0.0.1:$dp/invocations" -ContentType 'application/json' -Body '{"inputs": [[1, 2, 3]]}'
            $r.predictions.variable[0][0] | Should -Be 4.75
            if ($IsLinux) {
                # A session of its own: field 6 of /proc/PID/stat is the session id, the server's own pid when it leads one.
                ((Get-Content "/proc/$serverPid/stat" -Raw) -replace '^.*\) ', '').Split(' ')[3] | Should -Be $serverPid
            }
            # Session 2 finds it and stops it gracefully.
            $out2 = Invoke-FreshPwsh "`$env:MLMODELS_STATE_DIR = '$env:MLMODELS_STATE_DIR'; Import-Module '$ModulePath'; `$s = Get-MLModelServer -Port $dp; 'detached=' + `$s.Detached + ' log=' + `$s.LogPath; `$s | Format-Table | Out-String -Width 200; `$s | Stop-MLModelServer -Verbose 4>&1 | ForEach-Object { [string] `$_ }"
            $text = $out2 -join "`n"
            $text | Should -Match 'detached=True'
            $text | Should -Match 'Running\s+Detached'
            $text | Should -Match 'after in-flight requests finished'
            { Invoke-RestMethod "http://127.0.0.1:$dp/ping" -TimeoutSec 2 } | Should -Throw
            Get-MLModelServer -Port $dp | Should -BeNullOrEmpty
            $text -match 'log=(\S+)' | Should -BeTrue
            $log = Get-Content $Matches[1] | ForEach-Object { $_ | ConvertFrom-Json }
            ($log | Where-Object path -eq '/invocations').status | Should -Be 200
        }
        finally {
            # Whatever failed above, a detached server must not outlive the test.
            Stop-Process -Id $serverPid -ErrorAction Ignore
        }
    }

    It 'forgets servers that are gone' {
        $gone = Start-Process -FilePath (Get-Process -Id $PID).Path -ArgumentList '--version' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'v.txt')
        $gone.WaitForExit()
        New-Item -ItemType Directory -Path $env:MLMODELS_STATE_DIR -Force | Out-Null
        $entry = Join-Path $env:MLMODELS_STATE_DIR "$($gone.Id).json"
        @{ ProcessId = $gone.Id; HostName = '127.0.0.1'; Port = $ports[7]; ModelPath = $linear.Path; ModelName = 'linear'; StartTime = [datetime]::UtcNow } | ConvertTo-Json | Set-Content $entry
        Get-MLModelServer -Port $ports[7] | Should -BeNullOrEmpty
        $entry | Should -Not -Exist
    }

    It 'says what would start with -WhatIf, and starts nothing' {
        $linear | Start-MLModelServer -Background -Port $ports[3] -WhatIf
        Get-MLModelServer -Port $ports[3] | Should -BeNullOrEmpty
    }
}
