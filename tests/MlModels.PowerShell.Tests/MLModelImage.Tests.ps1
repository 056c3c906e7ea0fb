BeforeDiscovery {
    # The engine and base images come from .ci/services/dockerd.sh, the registry from .ci/services/registry.sh.
    $hasDocker = [bool]$env:DOCKER_HOST -and [bool]$env:MLMODELS_TEST_DOTNET_BASE -and [bool]$env:MLMODELS_TEST_PYTHON_BASE -and
        [bool]$env:MLMODELS_TEST_DEBIAN_BASE
    if (-not $hasDocker -and $env:CI) { throw 'CI must start a Docker engine with the local base images (.ci/services/dockerd.sh).' }
    $skipDocker = -not $hasDocker
    $hasRegistry = [bool]$env:MLMODELS_TEST_REGISTRY
    if ($hasDocker -and -not $hasRegistry -and $env:CI) { throw 'CI must start a registry (.ci/services/registry.sh).' }
}

Describe 'Docker cmdlets without an engine' -Tag 'Fast' {
    BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

    It 'writes a build context with the Dockerfile, the server and the model' {
        $ctx = Get-MLModel (Join-Path $Examples 'onnx-linear') | New-MLModelDockerfile (Join-Path $TestDrive 'ctx')
        $ctx.Kind | Should -Be 'Onnx'
        (Get-ChildItem $ctx.Path).Name | Sort-Object | Should -Be @('Dockerfile', 'model', 'server')
        Get-Content $ctx.Dockerfile -Raw | Should -Match 'CMD \["serve"\]'
        # The native server where the module has one (linux-x64), the framework-dependent one with -ServerBuild Framework.
        if (Test-Path (Join-Path $ModulePath 'dependencies/native-server/linux-x64/MlModels.Server')) {
            $ctx.Server | Should -Be 'Native'
            (Get-ChildItem (Join-Path $ctx.Path 'server')).Name | Sort-Object | Should -Be @('libonnxruntime.so', 'MlModels.Server')
            Get-Content $ctx.Dockerfile -Raw | Should -Match 'ENTRYPOINT \["/opt/mlmodels/server/MlModels.Server"\]'
        }
        $framework = Get-MLModel (Join-Path $Examples 'onnx-linear') | New-MLModelDockerfile (Join-Path $TestDrive 'ctx-fw') -ServerBuild Framework
        $framework.Server | Should -Be 'Framework'
        Join-Path $framework.Path 'server/MlModels.Server.dll' | Should -Exist
        Get-Content $framework.Dockerfile -Raw | Should -Match 'FROM mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled'
    }

    It 'writes nothing with -WhatIf, and refuses a non-empty folder without -Force' {
        $target = Join-Path $TestDrive 'ctx2'
        New-MLModelDockerfile -Path (Join-Path $Examples 'onnx-linear') $target -WhatIf
        $target | Should -Not -Exist
        New-Item -ItemType Directory $target | Out-Null
        Set-Content (Join-Path $target 'mine.txt') 'x'
        New-MLModelDockerfile -Path (Join-Path $Examples 'onnx-linear') $target -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'TargetExists'
        Join-Path $target 'mine.txt' | Should -Exist
    }

    It 'refuses an invalid tag before reaching for an engine' {
        { Build-MLModelImage -Path (Join-Path $Examples 'onnx-linear') -Tag 'Bad Name:1' -DockerHost "unix://$TestDrive/none.sock" -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidImageName,MlModels.PowerShell.Commands.BuildMLModelImageCommand'
    }

    It 'names the socket it tried when no engine answers' {
        $sock = Join-Path $TestDrive 'none.sock'
        Build-MLModelImage -Path (Join-Path $Examples 'onnx-linear') -Tag 'm:1' -DockerHost "unix://$sock" -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'DockerEngineUnreachable'
        $err[0].Exception.Message | Should -BeLike "*$sock*"
        Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'mlmodels-build-*' -ErrorAction Ignore | Where-Object LastWriteTime -gt (Get-Date).AddMinutes(-1) | Should -BeNullOrEmpty
    }
}

Describe 'Model images on a real Docker engine' -Tag 'Docker' -Skip:$skipDocker {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $dotnetBase = $env:MLMODELS_TEST_DOTNET_BASE
        $pythonBase = $env:MLMODELS_TEST_PYTHON_BASE
        $run = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $onnx = Get-MLModel (Join-Path $Examples 'onnx-linear')
        # The ONNX image on Debian minbase: the native server needs no .NET runtime (on linux-x64, where build.ps1 makes it).
        $debianBase = $env:MLMODELS_TEST_DEBIAN_BASE
        $hasNative = Test-Path (Join-Path $ModulePath 'dependencies/native-server/linux-x64/MlModels.Server')
        $onnxImage = $onnx | Build-MLModelImage -Tag "mlmodels-pester/onnx-linear:$run" -BaseImage $debianBase -DotnetImage $dotnetBase

        function Send-Json($url, $body) { (Invoke-WebRequest -Method Post -Uri "$($url)invocations" -ContentType 'application/json' -Body $body).Content }
    }
    AfterAll {
        Get-MLModelContainer -All | Where-Object Image -like "mlmodels-pester/*:$run" | Stop-MLModelContainer -TimeoutSec 5 -ErrorAction SilentlyContinue
    }

    It 'serves an ONNX model: the same JSON as Start-MLModelServer, the same values as Invoke-MLModelPrediction' {
        $onnxImage.Labels['mlmodels.model.uuid'] | Should -Be $onnx.ModelUuid
        $onnxImage.Labels['mlmodels.kind'] | Should -Be 'onnx'
        $onnxImage.Labels['mlmodels.server'] | Should -Be $(if ($hasNative) { 'native' } else { 'framework' })
        if ($env:CI -and $IsLinux -and [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64') {
            $hasNative | Should -BeTrue -Because 'build.ps1 makes the native server on linux-x64 (CI installs gcc for it)'
        }
        $c = $onnxImage | Start-MLModelContainer
        $c.Url | Should -Match '^http://127\.0\.0\.1:\d+/$'
        $c.State | Should -Be 'running'
        if (Get-Command docker -ErrorAction Ignore) {
            # The image's HEALTHCHECK command, run as the engine runs it: healthy once the model is loaded.
            $entry = (docker image inspect $onnxImage.Id --format '{{json .Config.Healthcheck.Test}}' | ConvertFrom-Json)
            $entry[0] | Should -Be 'CMD'
            docker exec $c.Id @($entry | Select-Object -Skip 1) 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
        }

        $rows = Import-Csv (Join-Path $Examples 'scoring-input.csv')
        $body = @{ dataframe_split = @{ columns = @('x1', 'x2', 'x3'); data = @($rows | ForEach-Object { , @([double]$_.x1, [double]$_.x2, [double]$_.x3) }) } } | ConvertTo-Json -Depth 5 -Compress
        $fromContainer = Send-Json $c.Url $body

        $port = Get-FreePort
        $server = $onnx | Start-MLModelServer -Background -Port $port
        try { $fromServer = Send-Json "$($server.Url)/" $body } finally { $server | Stop-MLModelServer }
        $fromContainer | Should -BeExactly $fromServer

        $local = $rows | ForEach-Object { [pscustomobject]@{ x1 = [double]$_.x1; x2 = [double]$_.x2; x3 = [double]$_.x3 } } | Invoke-MLModelPrediction -Model $onnx
        $predictions = ($fromContainer | ConvertFrom-Json).predictions
        $predictions.Count | Should -Be $rows.Count
        for ($i = 0; $i -lt $rows.Count; $i++) { [double]$predictions[$i].variable | Should -Be ([double]$local[$i].variable) }

        $csv = Invoke-RestMethod -Method Post -Uri "$($c.Url)invocations" -ContentType 'text/csv' -Body (Get-Content (Join-Path $Examples 'scoring-input.csv') -Raw)
        $csv.predictions.Count | Should -Be $rows.Count
        $bad = Invoke-WebRequest -Method Post -Uri "$($c.Url)invocations" -ContentType 'application/json' -Body '{"nope": 1}' -SkipHttpErrorCheck
        $bad.StatusCode | Should -Be 400
        ($bad.Content | ConvertFrom-Json).error_code | Should -Be 'BAD_REQUEST'

        (Get-MLModelContainer $c.Name).Id | Should -Be $c.Id
        (Get-MLModelContainer $c.Name -Logs) -join "`n" | Should -Match '"path":"/invocations","status":200'
        $stopped = $c | Stop-MLModelContainer -PassThru
        $stopped.State | Should -Be 'removed'
        Get-MLModelContainer -All | Where-Object Id -eq $c.Id | Should -BeNullOrEmpty
    }

    It 'answers every request form and error case in the image as Start-MLModelServer answers it' {
        # The same requests to the container and to the module's own server on the same model: status, content type and
        # body must be the same, byte for byte, for good requests and bad ones alike.
        $requests = @(
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3], [0.5, -1, 1e3]]}}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"dataframe_records": [{"x1": 1, "x2": 2, "x3": 3}]}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"instances": [{"x1": 1, "x2": 2, "x3": 3}]}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"inputs": {"x1": [1], "x2": [2], "x3": [3]}}' }
            @{ M = 'POST'; P = 'invocations'; T = 'text/csv'; B = "x1,x2,x3`n1,2,3`n4,5,6`n" }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json; charset=utf-8'; B = '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"k": 1}}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"nope": 1}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"dataframe_split": {"columns": ["x1", "x2"], "data": [[1, 2]]}}' }
            @{ M = 'POST'; P = 'invocations'; T = 'application/json'; B = '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [["a", 2, 3]]}}' }
            @{ M = 'POST'; P = 'invocations'; T = 'text/plain'; B = 'x' }
            @{ M = 'POST'; P = 'invocations'; T = 'text/csv'; B = "x1,x2`n1,2`n" }
            @{ M = 'GET'; P = 'invocations' }
            @{ M = 'GET'; P = 'ping' }
            @{ M = 'GET'; P = 'nowhere' }
            @{ M = 'POST'; P = 'v2/models/onnx-linear/infer'; T = 'application/json'; B = '{"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "x2", "shape": [1], "datatype": "FP64", "data": [2]}, {"name": "x3", "shape": [1], "datatype": "FP64", "data": [3]}]}' }
            @{ M = 'POST'; P = 'v2/models/onnx-linear/infer'; T = 'application/json'; B = '{"inputs": [{"name": "x1", "shape": [2], "datatype": "FP64", "data": [1]}]}' }
            @{ M = 'GET'; P = 'v2/models/onnx-linear' }
            @{ M = 'GET'; P = 'v2/models/other/ready' }
        )
        function Send($base, $r) {
            $a = @{ Method = $r.M; Uri = "$base$($r.P)"; SkipHttpErrorCheck = $true }
            if ($r.B) { $a.Body = [Text.Encoding]::UTF8.GetBytes($r.B); $a.ContentType = $r.T }
            $w = Invoke-WebRequest @a
            "$($w.StatusCode) $($w.Headers['Content-Type']) $([Text.Encoding]::UTF8.GetString($w.RawContentStream.ToArray()))"
        }
        # Both server builds: the image's default (native where the module has it) and the framework-dependent one.
        $images = @($onnxImage)
        if ($hasNative) {
            $framework = $onnx | Build-MLModelImage -Tag "mlmodels-pester/onnx-linear-framework:$run" -DotnetImage $dotnetBase -ServerBuild Framework
            $framework.Labels['mlmodels.server'] | Should -Be 'framework'
            # The native image on minbase is smaller than the framework-dependent one on the ASP.NET Core base.
            $onnxImage.Size | Should -BeLessThan $framework.Size
            $images += $framework
        }
        $server = $onnx | Start-MLModelServer -Background -Port (Get-FreePort)
        try {
            $expected = foreach ($r in $requests) { Send "$($server.Url)/" $r }
            foreach ($image in $images) {
                $c = $image | Start-MLModelContainer
                try {
                    Send $c.Url $requests[0] | Should -Match '^200 application/json \{"predictions": \['
                    Send $c.Url $requests[7] | Should -Match '^400 application/json \{"error_code": "BAD_REQUEST"'
                    for ($i = 0; $i -lt $requests.Count; $i++) {
                        $r = $requests[$i]
                        Send $c.Url $r | Should -BeExactly $expected[$i] -Because "$($image.Labels['mlmodels.server']): $($r.M) /$($r.P) $($r.B)"
                    }
                }
                finally { $c | Stop-MLModelContainer -TimeoutSec 5 }
            }
        }
        finally { $server | Stop-MLModelServer }
    }

    It 'answers the Open Inference Protocol in the image: V2 REST on 8080, gRPC on 8081 published by -GrpcPort' {
        $onnxImage.Labels['mlmodels.protocols'] | Should -Be 'mlflow,azureml,v2-rest,v2-grpc'
        $c = $onnxImage | Start-MLModelContainer -GrpcPort 0
        try {
            $c.GrpcAddress | Should -Match '^127\.0\.0\.1:\d+$'
            # The image records the model's name: the folder it was built from, not /opt/ml/model.
            (Invoke-RestMethod "$($c.Url)v2/models/onnx-linear").name | Should -Be 'onnx-linear'
            (Invoke-RestMethod "$($c.Url)v2/health/ready").ready | Should -BeTrue
        }
        finally { $c | Stop-MLModelContainer -TimeoutSec 5 }
        # MLMODELS_MODEL_NAME overrides the recorded name; the Node client's cases then run against the container.
        $c = $onnxImage | Start-MLModelContainer -GrpcPort 0 -Environment @{ MLMODELS_MODEL_NAME = 'linear' }
        try {
            $r = Invoke-GrpcClient @{ linear = $c.GrpcAddress } '^(?!.*(params|RESOURCE_EXHAUSTED))'
            if ($null -eq $r) { return }
            $r.failed | Should -Be 0 -Because $r.Lines
            $r.ran | Should -BeGreaterOrEqual 10 -Because $r.Lines
        }
        finally { $c | Stop-MLModelContainer -TimeoutSec 5 }
    }

    It 'serves an sklearn python_function model from its image as Invoke-MLModelPrediction scores it' -Tag 'Python' {
        $models = Join-Path $TestDrive 'pym'
        & /usr/bin/python3 (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $models | Out-Null
        $model = Get-MLModel (Join-Path $models 'sklearn-pipeline-cloudpickle')
        $image = $model | Build-MLModelImage -Tag "mlmodels-pester/sklearn:$run" -BaseImage $pythonBase -DotnetImage $dotnetBase
        $image.Kind | Should -Be 'python'
        $c = $image | Start-MLModelContainer -Memory 1GB -Cpus 1 -StartTimeoutSec 180
        $input = Get-Content (Join-Path $models 'input.csv') -Raw
        $fromContainer = (Invoke-RestMethod -Method Post -Uri "$($c.Url)invocations" -ContentType 'text/csv' -Body $input).predictions
        $env:MLMODELS_PYTHON = '/usr/bin/python3'
        try { $local = $model | Invoke-MLModelPrediction -InputCsv (Join-Path $models 'input.csv') } finally { Remove-Item Env:MLMODELS_PYTHON }
        $fromContainer.Count | Should -Be $local.Count
        for ($i = 0; $i -lt $local.Count; $i++) {
            # MLflow writes a 1-D result as a flat list; the cmdlet gives objects with a prediction property.
            $fromContainer[$i] | Should -BeOfType [double]
            $fromContainer[$i] | Should -BeGreaterOrEqual ([double]$local[$i].prediction - 1e-9)
            $fromContainer[$i] | Should -BeLessOrEqual ([double]$local[$i].prediction + 1e-9)
        }
        $c | Stop-MLModelContainer -TimeoutSec 5
    }

    It 'serves a model mounted into the generic image' {
        $generic = Build-MLModelImage -Generic -Tag "mlmodels-pester/generic:$run" -BaseImage $debianBase -DotnetImage $dotnetBase
        $generic.Kind | Should -Be 'generic-onnx'
        $c = Start-MLModelContainer $generic.Tag -Path (Join-Path $Examples 'onnx-linear') -Environment @{ MLMODELS_API_KEY = 'k1' }
        $c.ModelPath | Should -Be (Join-Path $Examples 'onnx-linear')
        $body = '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}}'
        (Invoke-WebRequest -Method Post -Uri "$($c.Url)invocations" -ContentType 'application/json' -Body $body -SkipHttpErrorCheck).StatusCode | Should -Be 401
        $r = Invoke-RestMethod -Method Post -Uri "$($c.Url)invocations" -ContentType 'application/json' -Body $body -Headers @{ 'X-API-Key' = 'k1' }
        $r.predictions[0].variable | Should -Be ((Invoke-MLModelPrediction -Model $onnx -InputObject ([pscustomobject]@{ x1 = 1.0; x2 = 2.0; x3 = 3.0 })).variable)
        $c | Stop-MLModelContainer -TimeoutSec 5
    }

    It 'pushes to a registry with a credential, and a wrong password is an authentication error' -Tag 'Cloud' -Skip:(-not $env:MLMODELS_TEST_REGISTRY) {
        $password = ConvertTo-SecureString $env:MLMODELS_TEST_REGISTRY_PASSWORD -AsPlainText -Force
        $cred = [pscredential]::new($env:MLMODELS_TEST_REGISTRY_USER, $password)
        $target = "$($env:MLMODELS_TEST_REGISTRY)/pester/onnx-linear:$run"
        $pushed = $onnxImage | Publish-MLModelImage -Destination $target -Credential $cred
        $pushed.Reference | Should -Be $target
        $pushed.Digest | Should -Match '^sha256:[0-9a-f]{64}$'

        $wrong = [pscredential]::new($env:MLMODELS_TEST_REGISTRY_USER, (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        $onnxImage | Publish-MLModelImage -Destination $target -Credential $wrong -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'RegistryAuthenticationFailed'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
    }
}
