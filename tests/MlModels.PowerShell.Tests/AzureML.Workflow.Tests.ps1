BeforeDiscovery {
    # The engine and base images come from .ci/services/dockerd.sh, the datastore's blob service from .ci/services/azurite.sh.
    $hasDocker = [bool]$env:DOCKER_HOST -and [bool]$env:MLMODELS_TEST_DOTNET_BASE
    if (-not $hasDocker -and $env:CI) { throw 'CI must start a Docker engine with the local base images (.ci/services/dockerd.sh).' }
    $hasAzurite = [bool]$env:AZURITE_BLOB_ENDPOINT
    if (-not $hasAzurite -and $env:CI) { throw 'CI must start Azurite (.ci/services/azurite.sh).' }
    $skipDocker = -not $hasDocker
    $skipWorkflow = -not ($hasDocker -and $hasAzurite)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Onnx = Get-MLModel (Join-Path $Examples 'onnx-linear')
    $script:Rows = Import-Csv (Join-Path $Examples 'scoring-input.csv') | ForEach-Object { [pscustomobject]@{ x1 = [double]$_.x1; x2 = [double]$_.x2; x3 = [double]$_.x3 } }
    # Azure ML's request form for MLflow models: a split-orient table under input_data.
    $script:AzureRequest = @{ input_data = @{ columns = @('x1', 'x2', 'x3'); index = @(0..($Rows.Count - 1)); data = @($Rows | ForEach-Object { , @($_.x1, $_.x2, $_.x3) }) } } |
        ConvertTo-Json -Depth 6 -Compress
    $script:Expected = @($Rows | Invoke-MLModelPrediction -Model $Onnx | ForEach-Object { [double]$_.variable })
    $script:Run = [guid]::NewGuid().ToString('N').Substring(0, 6)
}

Describe 'Publish-MLModelAzureML -Local on a real Docker engine' -Tag 'Docker' -Skip:$skipDocker {
    AfterAll {
        Get-MLModelContainer -All | Where-Object { $_.Labels['mlmodels.azureml.endpoint'] -like "local-$Run*" } | Stop-MLModelContainer -TimeoutSec 5 -ErrorAction SilentlyContinue
    }

    It 'builds the model''s image and answers Azure ML''s liveness GET / and POST /score with input_data, as Invoke-MLModelPrediction scores' {
        $local = Publish-MLModelAzureML -Local -Model $Onnx -EndpointName "local-$Run" -Port 0 -DotnetImage $env:MLMODELS_TEST_DOTNET_BASE
        $local.Kind | Should -Be 'Local'
        $local.ProvisioningState | Should -Be 'Succeeded'
        $local.ScoringUri.AbsoluteUri | Should -Match '^http://127\.0\.0\.1:\d+/score$'
        $local.Container.Image | Should -Be "mlmodels-azureml/local-$($Run):blue"
        $local.Container.Labels['mlmodels.azureml.deployment'] | Should -Be 'blue'

        $live = Invoke-WebRequest -Uri ([uri]::new($local.ScoringUri, '/'))
        $live.StatusCode | Should -Be 200
        $live.Content | Should -Be 'Healthy'

        # Azure ML returns an MLflow model's predictions themselves, without MLflow's {"predictions": ...}.
        $answer = (Invoke-WebRequest -Method Post -Uri $local.ScoringUri -ContentType 'application/json' -Body $AzureRequest).Content
        $answer | Should -Not -Match 'predictions'
        $values = @(($answer | ConvertFrom-Json) | ForEach-Object { [double]$_.variable })
        $values | Should -Be $Expected

        # The port inside is Azure ML's 5001: the engine publishes it, and the server's own health check finds it there.
        $ports = docker inspect --format '{{json .NetworkSettings.Ports}}' $local.Container.Id | ConvertFrom-Json -AsHashtable
        $ports['5001/tcp'][0].HostIp | Should -Be '127.0.0.1'
        $ports['8080/tcp'] | Should -BeNullOrEmpty
        $env = docker inspect --format '{{json .Config.Env}}' $local.Container.Id | ConvertFrom-Json
        $env | Should -Contain 'MLMODELS_SERVE_PORT=5001'
    }

    It 'answers a request without input_data with 400 and MLflow''s error body' {
        $local = Publish-MLModelAzureML -Local -Model $Onnx -EndpointName "local-$Run" -DeploymentName green -Image "mlmodels-azureml/local-$($Run):blue" -Port 0
        $r = Invoke-WebRequest -Method Post -Uri $local.ScoringUri -ContentType 'application/json' -SkipHttpErrorCheck `
            -Body '{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}}'
        $r.StatusCode | Should -Be 400
        ($r.Content | ConvertFrom-Json).error_code | Should -Be 'BAD_REQUEST'
        ($r.Content | ConvertFrom-Json).message | Should -Match 'input_data'
    }

    It 'replaces the container when the same endpoint and deployment is published again' {
        $first = Get-MLModelContainer -All | Where-Object { $_.Labels['mlmodels.azureml.endpoint'] -eq "local-$Run" -and $_.Labels['mlmodels.azureml.deployment'] -eq 'green' }
        @($first).Count | Should -Be 1
        $again = Publish-MLModelAzureML -Local -Model $Onnx -EndpointName "local-$Run" -DeploymentName green -Image "mlmodels-azureml/local-$($Run):blue" -Port 0
        $now = Get-MLModelContainer -All | Where-Object { $_.Labels['mlmodels.azureml.endpoint'] -eq "local-$Run" -and $_.Labels['mlmodels.azureml.deployment'] -eq 'green' }
        @($now).Count | Should -Be 1
        $now.Id | Should -Be $again.Container.Id
        $now.Id | Should -Not -Be $first.Id
    }

    It 'needs no workspace, and refuses an endpoint name Azure would refuse before reaching Docker' {
        { Publish-MLModelAzureML -Local -Model $Onnx -EndpointName 'bad_name' -DockerHost "unix://$TestDrive/none.sock" -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidAzureMLName,*'
        (Get-Command Publish-MLModelAzureML).ParameterSets.Where({ $_.Name -eq 'Local' }).Parameters.Where({ $_.IsMandatory }).Name | Sort-Object |
            Should -Be @('EndpointName', 'Local')
    }
}

Describe 'docs/examples/azureml-workflow.ps1 against the ARM fake, Azurite and Docker' -Tag 'Docker', 'Cloud' -Skip:$skipWorkflow {
    BeforeAll {
        # The ARM fake (tests/MlModels.AzureMLFake) over HTTP on 127.0.0.1: Microsoft's examples, every request checked.
        $fakeProject = Join-Path $RepoRoot 'tests/MlModels.AzureMLFake'
        $fakeDll = Join-Path $fakeProject 'bin/Release/net8.0/MlModels.AzureMLFake.dll'
        if (-not (Test-Path $fakeDll)) { dotnet build $fakeProject -c Release --nologo -v quiet | Out-Null }
        Add-Type -Path $fakeDll
        $script:Server = [MlModels.AzureMLFake.ArmHttpServer]::Start((Join-Path $RepoRoot 'tests/specs/azureml/2025-12-01/examples'))
        $Server.Fake.CheckUploads = $false
        # Azurite is the workspace's default datastore: the fake names account devstoreaccount1 with Azurite's key.
        [MlModels.AzureMLFake.BlobContainers]::Ensure([uri]$env:AZURITE_BLOB_ENDPOINT, 'azureml-blobstore-test', $Server.Fake.DatastoreKey) | Out-Null
        $script:SavedBlob = $env:MLMODELS_AZUREML_BLOB_ENDPOINT
        $env:MLMODELS_AZUREML_BLOB_ENDPOINT = $env:AZURITE_BLOB_ENDPOINT

        $script:Result = & (Join-Path $RepoRoot 'docs/examples/azureml-workflow.ps1') -ModelPath (Join-Path $Examples 'onnx-linear') `
            -SampleCsv (Join-Path $Examples 'scoring-input.csv') -ResourceGroupName 'test-rg' -WorkspaceName 'my-aml-workspace' `
            -SubscriptionId '00000000-1111-2222-3333-444444444444' -EndpointName "flow-$Run" -BatchEndpointName "batch-$Run" `
            -ExportPath (Join-Path $TestDrive 'export') -LocalPort 0 -LocalOptions @{ DotnetImage = $env:MLMODELS_TEST_DOTNET_BASE } `
            -ResourceManagerUrl $Server.Uri -AccessToken (ConvertTo-SecureString 'fake-arm-token' -AsPlainText -Force)
        $script:Calls = @($Server.Fake.Calls)
        $script:FakeAzure = @{
            ResourceGroupName = 'test-rg'; WorkspaceName = 'my-aml-workspace'; SubscriptionId = '00000000-1111-2222-3333-444444444444'
            ResourceManagerUrl = $Server.Uri; AccessToken = (ConvertTo-SecureString 'fake-arm-token' -AsPlainText -Force)
        }
    }
    AfterAll {
        $env:MLMODELS_AZUREML_BLOB_ENDPOINT = $SavedBlob
        if ($script:Server) { $Server.Dispose() }
        Get-MLModelContainer -All | Where-Object { $_.Labels['mlmodels.azureml.endpoint'] -eq "flow-$Run" } | Stop-MLModelContainer -TimeoutSec 5 -ErrorAction SilentlyContinue
    }

    It 'makes only requests the 2025-12-01 swagger allows, each checked by the fake' {
        $Server.Fake.Violations | Should -BeNullOrEmpty
    }

    It 'exports the folder Azure ML''s CLI deploys' {
        $Result.Export.Files | Should -Contain 'score.py'
        $Result.Export.Files | Should -Contain 'model/MLmodel'
    }

    It 'answered the input_data request locally as Azure ML answers, and stopped the container' {
        $Result.LocalLiveness | Should -Be 'Healthy'
        @($Result.LocalPredictions | ForEach-Object { [double]$_.variable }) | Should -Be $Expected
        Get-MLModelContainer -All | Where-Object { $_.Labels['mlmodels.azureml.endpoint'] -eq "flow-$Run" } | Should -BeNullOrEmpty
    }

    It 'uploaded the model to the default datastore, registered an mlflow_model version and deployed it online' {
        $Calls | Should -Contain "GET $($Server.Fake.WsPath)/datastores?isDefault=true"
        $Calls | Should -Contain "POST $($Server.Fake.WsPath)/datastores/workspaceblobstore/listSecrets"
        $Calls | Should -Contain "PUT $($Server.Fake.WsPath)/models/onnx-linear/versions/1"
        $Calls | Should -Contain "PUT $($Server.Fake.WsPath)/onlineEndpoints/flow-$Run/deployments/blue"
        $Result.Online.ProvisioningState | Should -Be 'Succeeded'
        $Result.Online.ScoringUri.AbsoluteUri | Should -Be "$($Server.Uri)inference/flow-$Run/score"
        $Result.Online.Traffic['blue'] | Should -Be 100
    }

    It 'scored on the endpoint with its key, row for row, and on green alone' {
        # The fake answers each row's first value doubled, so rows must have travelled in order.
        @($Result.OnlinePredictions | ForEach-Object { [double]$_.prediction }) | Should -Be @($Rows | ForEach-Object { 2 * $_.x1 })
        @($Result.GreenPredictions).Count | Should -Be @($Rows).Count
        $Calls | Should -Contain "POST $($Server.Fake.WsPath)/onlineEndpoints/flow-$Run/listKeys"
        $Calls | Should -Contain "POST /inference/flow-$Run/score"
    }

    It 'split traffic 90/10, then removed the endpoint with a long-running DELETE' {
        $Result.Traffic['blue'] | Should -Be 90
        $Result.Traffic['green'] | Should -Be 10
        $Calls | Should -Contain "DELETE $($Server.Fake.WsPath)/onlineEndpoints/flow-$Run"
        @($Calls | Where-Object { $_ -like 'GET /fake/locations/*' }).Count | Should -BeGreaterThan 0
        $Result.RemovedEndpoint | Should -BeTrue
        $Server.Fake.Resources.Keys | Where-Object { $_ -like "/onlineEndpoints/flow-$Run*" } | Should -BeNullOrEmpty
    }

    It 'made a batch endpoint on the cluster and started a scoring job on it' {
        $Result.Batch.Kind | Should -Be 'Batch'
        $Result.Batch.DefaultDeployment | Should -Be 'blue'
        $Calls | Should -Contain "PUT $($Server.Fake.WsPath)/batchEndpoints/batch-$Run/deployments/blue"
        $Calls | Should -Contain "POST /inference/batch-$Run/jobs"
        $Result.BatchJob.Name | Should -Match '^batchjob-'
        $Result.BatchJob.Properties.Status | Should -Be 'Running'
    }

    It 'deploys the exported score.py with its environment (-CodePath), and the deployment names both' {
        $ep = Publish-MLModelAzureML -Path (Join-Path $Examples 'onnx-linear') -EndpointName "script-$Run" -CodePath $Result.Export.Path @FakeAzure
        $Server.Fake.Violations | Should -BeNullOrEmpty
        $ep.ProvisioningState | Should -Be 'Succeeded'
        $version = ($ep.ModelId -split '/')[-1]
        $code = $Server.Fake.Resources["/codes/onnx-linear-code/versions/$version"]
        $code | Should -Not -BeNullOrEmpty
        $code['properties']['codeUri'].GetValue[string]() | Should -Match '^https://devstoreaccount1\.blob\.\S+/azureml-blobstore-test/LocalUpload/[0-9a-f]+/code$'
        $environment = $Server.Fake.Resources["/environments/onnx-linear-env/versions/$version"]
        $environment['properties']['condaFile'].GetValue[string]() | Should -Be (Get-Content (Join-Path $Result.Export.Path 'environment/conda.yaml') -Raw)
        $deployment = $Server.Fake.Resources["/onlineEndpoints/script-$Run/deployments/blue"]
        $deployment['properties']['codeConfiguration']['scoringScript'].GetValue[string]() | Should -Be 'score.py'
        $deployment['properties']['environmentId'].GetValue[string]() | Should -Be "$($Server.Fake.WsPath)/environments/onnx-linear-env/versions/$version"
    }
}
