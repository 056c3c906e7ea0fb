BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    # The services CI starts: moto (.ci/services/moto.sh), the htpasswd registry (registry.sh), the Docker engine and
    # its base images (dockerd.sh); and Debian's python3 for the stand-in in front of moto.
    $script:missing = @(
        if (-not $env:MLMODELS_TEST_MOTO_URL) { 'moto_server (MLMODELS_TEST_MOTO_URL)' }
        if (-not $env:MLMODELS_TEST_REGISTRY) { 'the local registry (MLMODELS_TEST_REGISTRY)' }
        if (-not ($env:DOCKER_HOST -and $env:MLMODELS_TEST_DOTNET_BASE -and $env:MLMODELS_TEST_PYTHON_BASE)) { 'the Docker engine and base images (DOCKER_HOST, MLMODELS_TEST_*_BASE)' }
        if (-not (Test-Path /usr/bin/python3)) { '/usr/bin/python3' }
    )
    function Skip-WithoutServices {
        if ($missing.Count -eq 0) { return $false }
        if ($env:CI) { throw "CI must provide $($missing -join ', ') for the SageMaker workflow." }
        Set-ItResult -Skipped -Because "$($missing -join ', ') missing here; CI starts them (.ci/services)"
        return $true
    }

    # A request to a running server: status, content type and body as they came.
    function Send-Request([string] $Url, [string] $Method, [string] $ContentType, [string] $Body) {
        $request = @{ Uri = $Url; Method = $Method; SkipHttpErrorCheck = $true }
        if ($ContentType) { $request += @{ ContentType = $ContentType; Body = $Body } }
        $r = Invoke-WebRequest @request
        [pscustomobject]@{ Status = [int]$r.StatusCode; Body = [Text.Encoding]::UTF8.GetString($r.RawContentStream.ToArray()) }
    }

    # Asks moto directly what it holds (it checks no signature; the credential scope names the service).
    function Invoke-Moto([string] $Service, [string] $Target, [hashtable] $Body, [string] $Path = '/') {
        $headers = @{ Authorization = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/$Service/aws4_request, SignedHeaders=host, Signature=0" }
        if (-not $Target) { return Invoke-WebRequest "$($env:MLMODELS_TEST_MOTO_URL)$Path" -Headers $headers }
        $headers['X-Amz-Target'] = $Target
        Invoke-RestMethod "$($env:MLMODELS_TEST_MOTO_URL)/" -Method Post -Headers $headers -ContentType 'application/x-amz-json-1.1' -Body ($Body | ConvertTo-Json -Compress)
    }
}

Describe 'docs/examples/sagemaker-workflow.ps1' -Tag 'Docker', 'Cloud', 'Python' {
    It 'builds, pushes, runs locally, creates, replaces, lists, invokes and removes, leaving nothing on moto' {
        if (Skip-WithoutServices) { return }
        $run = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $app = "wf-$run"
        $bucket = "wf-data-$run"
        $repository = "mlmodels-wf-$run"
        $model = Join-Path $Examples 'onnx-linear'
        $csv = Join-Path $Examples 'scoring-input.csv'

        # moto 5.2.1 has no UpdateEndpoint and names an ECR registry that does not exist: the stand-in answers those
        # two (see SageMakerStandIn.py); S3 and STS go to moto directly.
        $start = [Diagnostics.ProcessStartInfo]::new('/usr/bin/python3')
        foreach ($a in (Join-Path $PSScriptRoot 'SageMakerStandIn.py'), $env:MLMODELS_TEST_MOTO_URL, $env:MLMODELS_TEST_REGISTRY, $env:MLMODELS_TEST_REGISTRY_USER, $env:MLMODELS_TEST_REGISTRY_PASSWORD) { $start.ArgumentList.Add($a) }
        $start.RedirectStandardOutput = $true
        $standIn = [Diagnostics.Process]::Start($start)
        try {
            $standInUrl = "http://127.0.0.1:$($standIn.StandardOutput.ReadLine())"
            $environment = @{
                AWS_ACCESS_KEY_ID = 'testing'; AWS_SECRET_ACCESS_KEY = 'testing'; AWS_REGION = 'us-east-1'; AWS_EC2_METADATA_DISABLED = 'true'
                AWS_ENDPOINT_URL = $env:MLMODELS_TEST_MOTO_URL; AWS_ENDPOINT_URL_SAGEMAKER = $standInUrl; AWS_ENDPOINT_URL_ECR = $standInUrl
            }
            $set = ($environment.GetEnumerator() | ForEach-Object { "`$env:$($_.Key) = '$($_.Value)'" }) -join "`n"
            $workflow = Join-Path $RepoRoot 'docs/examples/sagemaker-workflow.ps1'
            $lines = Invoke-FreshPwsh @"
Get-ChildItem Env: | Where-Object Name -like 'AWS_*' | ForEach-Object { Remove-Item "Env:`$(`$_.Name)" }
$set
Import-Module '$ModulePath'
`$ErrorActionPreference = 'Stop'
`$r = & '$workflow' -ModelPath '$model' -AppName $app -ExecutionRoleArn arn:aws:iam::123456789012:role/sagemaker -InputCsv '$csv' -Bucket $bucket ``
    -Repository $repository -Tag test -BaseImage '$($env:MLMODELS_TEST_PYTHON_BASE)' -DotnetImage '$($env:MLMODELS_TEST_DOTNET_BASE)' -LocalPort 0 -PredictWith Local
@{ ImageUrl = `$r.ImageUrl; Local = `$r.Local; Predictions = `$r.Predictions
   Created = @{ Status = `$r.Created.Status; Config = `$r.Created.EndpointConfigName; Model = `$r.Created.Variants[0].ModelName; Data = `$r.Created.ModelDataUrl }
   Replaced = @{ Status = `$r.Replaced.Status; Config = `$r.Replaced.EndpointConfigName; Model = `$r.Replaced.Variants[0].ModelName; Data = `$r.Replaced.ModelDataUrl; CleanedUp = `$r.Replaced.CleanedUp }
   Listed = @{ Status = `$r.Deployment.Status; Config = `$r.Deployment.EndpointConfigName; Model = `$r.Deployment.Variants[0].ModelName }
   Deleted = `$r.Removal.Deleted; Kept = `$r.Removal.Kept } | ConvertTo-Json -Compress -Depth 6
"@
            $report = Invoke-RestMethod "$standInUrl/_standin/report"
        }
        finally {
            $standIn.Kill()
            $standIn.WaitForExit(5000) | Out-Null
        }
        $text = ($lines | ForEach-Object ToString) -join "`n"
        $json = @($lines | ForEach-Object ToString | Where-Object { $_ -like '{*' }) | Select-Object -Last 1
        $json | Should -Not -BeNullOrEmpty -Because $text
        $r = $json | ConvertFrom-Json

        # Every SageMaker and ECR request the workflow made matched its service model.
        $report.violations | Should -BeNullOrEmpty
        foreach ($op in 'AmazonEC2ContainerRegistry_V20150921.CreateRepository', 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
            'SageMaker.CreateModel', 'SageMaker.CreateEndpointConfig', 'SageMaker.CreateEndpoint', 'SageMaker.UpdateEndpoint',
            'SageMaker.DeleteEndpoint', 'SageMaker.DeleteEndpointConfig', 'SageMaker.DeleteModel') { $report.calls | Should -Contain $op }

        # build-and-push: the repository on moto's ECR, the image in the registry standing in for ECR's.
        $r.ImageUrl | Should -Be "$($env:MLMODELS_TEST_REGISTRY)/${repository}:test"
        (Invoke-Moto ecr AmazonEC2ContainerRegistry_V20150921.DescribeRepositories @{ repositoryNames = @($repository) }).repositories.repositoryName | Should -Be $repository
        $auth = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$($env:MLMODELS_TEST_REGISTRY_USER):$($env:MLMODELS_TEST_REGISTRY_PASSWORD)"))
        (Invoke-RestMethod "http://$($env:MLMODELS_TEST_REGISTRY)/v2/$repository/tags/list" -Headers @{ Authorization = "Basic $auth" }).tags | Should -Contain 'test'

        # run-local answers /ping and /invocations (JSON and CSV) exactly as the in-process server does.
        $port = Get-FreePort
        $server = Get-MLModel $model | Start-MLModelServer -Background -Port $port
        try {
            $ping = Send-Request "$($server.Url)/ping" Get '' ''
            $fromJson = Send-Request "$($server.Url)/invocations" Post 'application/json' $r.Local.JsonRequest
            $fromCsv = Send-Request "$($server.Url)/invocations" Post 'text/csv' (Get-Content $csv -Raw)
        }
        finally { $server | Stop-MLModelServer }
        $r.Local.Ping | Should -Be $ping.Status
        $ping.Status | Should -Be 200
        $fromJson.Status | Should -Be 200
        $r.Local.Json | Should -BeExactly $fromJson.Body
        $fromCsv.Status | Should -Be 200
        $r.Local.Csv | Should -BeExactly $fromCsv.Body
        $r.Predictions | Should -BeExactly $fromJson.Body

        # Create, then Replace: a new model and configuration serve, the first ones and their data are gone.
        $r.Created.Status | Should -Be 'InService'
        $r.Created.Model | Should -Match "^$app-model-[0-9a-f]{20}$"
        $r.Created.Data | Should -Be "s3://$bucket/$($r.Created.Model)/model.tar.gz"
        $r.Replaced.Status | Should -Be 'InService'
        $r.Replaced.Model | Should -Not -Be $r.Created.Model
        $r.Replaced.Config | Should -Not -Be $r.Created.Config
        $r.Replaced.CleanedUp | Should -Contain "model $($r.Created.Model)"
        $r.Replaced.CleanedUp | Should -Contain "model data $($r.Created.Data)"
        $r.Replaced.CleanedUp | Should -Contain "endpoint configuration $($r.Created.Config)"
        $r.Listed.Status | Should -Be 'InService'
        $r.Listed.Config | Should -Be $r.Replaced.Config
        $r.Listed.Model | Should -Be $r.Replaced.Model

        # Remove: the endpoint, its configuration, its model and the model data; nothing of the app is left on moto.
        $r.Deleted | Should -Contain "endpoint $app"
        $r.Deleted | Should -Contain "endpoint configuration $($r.Replaced.Config)"
        $r.Deleted | Should -Contain "model $($r.Replaced.Model)"
        $r.Deleted | Should -Contain "model data $($r.Replaced.Data)"
        @($r.Kept).Where({ $_ }).Count | Should -Be 0
        (Invoke-Moto sagemaker SageMaker.ListModels @{ NameContains = $app }).Models | Where-Object ModelName -like "$app-*" | Should -BeNullOrEmpty
        (Invoke-Moto sagemaker SageMaker.ListEndpointConfigs @{ NameContains = $app }).EndpointConfigs | Where-Object EndpointConfigName -like "$app-*" | Should -BeNullOrEmpty
        (Invoke-Moto sagemaker SageMaker.ListEndpoints @{ NameContains = $app }).Endpoints | Where-Object EndpointName -eq $app | Should -BeNullOrEmpty
        ([xml](Invoke-Moto s3 -Path "/${bucket}?list-type=2").Content).ListBucketResult.KeyCount | Should -Be '0'
    }
}
