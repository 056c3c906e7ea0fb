BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $moto = $env:MLMODELS_TEST_MOTO_URL
    $role = 'arn:aws:iam::123456789012:role/sagemaker-execution'
    $image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:0.1.0'
    $model = Join-Path $Examples 'pyfunc-custom'

    # moto runs in CI (.ci/services/moto.sh); elsewhere these tests skip unless MLMODELS_TEST_MOTO_URL is set.
    function Skip-WithoutMoto {
        if ($moto) { return $false }
        if ($env:CI) { throw 'CI must provide moto_server (MLMODELS_TEST_MOTO_URL), but it is missing.' }
        Set-ItResult -Skipped -Because 'moto_server is not running here (MLMODELS_TEST_MOTO_URL); CI starts it'
        return $true
    }

    # Each scenario runs in a fresh pwsh so the AWS variables it sets reach no other test. Its last line is JSON.
    function Invoke-Aws([hashtable] $Environment, [string] $Body) {
        $set = ($Environment.GetEnumerator() | ForEach-Object { "`$env:$($_.Key) = '$($_.Value)'" }) -join "`n"
        $clear = 'Get-ChildItem Env: | Where-Object Name -like "AWS_*" | ForEach-Object { Remove-Item "Env:$($_.Name)" }'
        $lines = Invoke-FreshPwsh "$clear`n$set`nImport-Module '$ModulePath'`n`$ErrorActionPreference = 'Stop'`n$Body"
        $text = ($lines | ForEach-Object ToString) -join "`n"
        $json = @($lines | ForEach-Object ToString | Where-Object { $_ -like '{*' }) | Select-Object -Last 1
        if (-not $json) { throw "The scenario gave no result:`n$text" }
        [pscustomobject]@{ Result = $json | ConvertFrom-Json; Text = $text }
    }
    $envCreds = @{ AWS_ACCESS_KEY_ID = 'testing'; AWS_SECRET_ACCESS_KEY = 'testing'; AWS_REGION = 'us-east-1'; AWS_ENDPOINT_URL = $moto; AWS_EC2_METADATA_DISABLED = 'true' }
}

Describe 'SageMaker cmdlets against moto' {
    It 'creates, lists, invokes and removes an endpoint with credentials and endpoint from the environment; a failed replace rolls back' -Tag 'Cloud' {
        if (Skip-WithoutMoto) { return }
        $app = 'e2e-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $r = Invoke-Aws $envCreds @"
`$created = Publish-MLModelSageMaker -AppName $app -Path '$model' -ExecutionRoleArn $role -ImageUrl $image
# moto 5.2.1 has no UpdateEndpoint: the replace fails there, and must roll back and leave the endpoint as it was.
try { Get-MLModel '$model' | Publish-MLModelSageMaker -AppName $app -Mode Replace -ExecutionRoleArn $role -ImageUrl $image; `$replaceError = 'none' }
catch { `$replaceError = `$_.FullyQualifiedErrorId.Split(',')[0] + ': ' + `$_.Exception.Message }
`$listed = @(Get-MLModelSageMakerDeployment 'e2e-*' | Where-Object Name -eq $app)
`$table = `$listed | Format-Table | Out-String
`$predictions = @([pscustomobject]@{ x = 1.5 } | Invoke-MLModelSageMakerEndpoint -EndpointName $app -Raw)
`$removed = Remove-MLModelSageMakerDeployment $app -IncludeModelData -Confirm:`$false -PassThru
`$after = @(Get-MLModelSageMakerDeployment $app -ErrorAction SilentlyContinue)
@{ Created = `$created.Status; CreatedModel = `$created.Variants[0].ModelName; CreatedConfig = `$created.EndpointConfigName; ReplaceError = `$replaceError
   ListedModel = `$listed[0].Variants[0].ModelName; Listed = `$listed.Count; Table = `$table; Predictions = `$predictions.Count
   Deleted = `$removed.Deleted; After = `$after.Count; Type = `$created.GetType().FullName } | ConvertTo-Json -Compress -Depth 4
"@
        $r.Result.Created | Should -Be 'InService' -Because $r.Text
        $r.Result.CreatedModel | Should -Match "^$app-model-[0-9a-f]{20}$"
        $r.Result.ReplaceError | Should -Match '^SageMakerDeploymentFailed: .*UpdateEndpoint'
        $r.Result.ReplaceError | Should -Match ([regex]::Escape("keeps its previous configuration '$($r.Result.CreatedConfig)'"))
        $r.Result.ReplaceError | Should -Match "Rolled back: endpoint configuration $app-config-.*; model $app-model-.*; model data s3://"
        $r.Result.ListedModel | Should -Be $r.Result.CreatedModel
        $r.Result.Listed | Should -Be 1
        $r.Result.Table | Should -Match "$app\s+InService\s+us-east-1"
        $r.Result.Predictions | Should -Be 1
        $r.Result.Deleted | Should -Contain "endpoint $app"
        $r.Result.Deleted | Should -Contain "model $($r.Result.CreatedModel)"
        $r.Result.After | Should -Be 0
        $r.Result.Type | Should -Be 'MlModels.Deploy.SageMaker.SageMakerDeployment'
    }

    It 'prints each call with -WhatIf and makes none' -Tag 'Cloud' {
        if (Skip-WithoutMoto) { return }
        $app = 'whatif-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $r = Invoke-Aws $envCreds @"
Publish-MLModelSageMaker -AppName $app -Path '$model' -ExecutionRoleArn $role -ImageUrl $image -Bucket 'wi-$app' -WhatIf
`$exists = @(Get-MLModelSageMakerDeployment $app -ErrorAction SilentlyContinue).Count
@{ Exists = `$exists } | ConvertTo-Json -Compress
"@
        $out = $r.Text
        $out | Should -Match 'What if'
        foreach ($call in 'S3 CreateBucket wi-', 'S3 PutObject', 'SageMaker CreateModel', 'SageMaker CreateEndpointConfig', "SageMaker CreateEndpoint $app") { $out | Should -Match ([regex]::Escape($call)) }
        $r.Result.Exists | Should -Be 0
    }

    It 'takes credentials from a profile file and -EndpointUrl, and from a PSCredential' -Tag 'Cloud' {
        if (Skip-WithoutMoto) { return }
        $file = Join-Path $TestDrive 'credentials'
        Set-Content $file "[deploy]`naws_access_key_id = fromprofile`naws_secret_access_key = secret`nregion = us-east-1`n"
        $r = Invoke-Aws @{ AWS_EC2_METADATA_DISABLED = 'true' } @"
`$a = @(Get-MLModelSageMakerDeployment -ProfileName deploy -ProfileLocation '$file' -EndpointUrl '$moto' -ErrorAction Stop).Count
`$cred = [pscredential]::new('fromparameter', (ConvertTo-SecureString 'secret' -AsPlainText -Force))
`$b = @(Get-MLModelSageMakerDeployment -Credential `$cred -Region us-east-1 -EndpointUrl '$moto' -ErrorAction Stop).Count
@{ Profile = `$a; Parameter = `$b } | ConvertTo-Json -Compress
"@
        # Both calls succeeded (an error stops the script before the result) and saw the same account's endpoints.
        $r.Result | Should -Not -BeNullOrEmpty -Because $r.Text
        $r.Result.Profile | Should -BeOfType [long]
        $r.Result.Profile | Should -Be $r.Result.Parameter
        $r.Text | Should -Not -Match 'AwsConfiguration'
    }

    It 'says where it looked when there are no credentials' -Tag 'Fast' {
        $empty = New-Item -ItemType Directory (Join-Path $TestDrive 'home') -Force
        $r = Invoke-Aws @{ HOME = $empty.FullName; AWS_SHARED_CREDENTIALS_FILE = (Join-Path $empty 'none'); AWS_CONFIG_FILE = (Join-Path $empty 'none'); AWS_EC2_METADATA_DISABLED = 'true' } @"
try { Get-MLModelSageMakerDeployment -Region us-east-1 -EndpointUrl http://127.0.0.1:9; @{ Id = 'none' } | ConvertTo-Json -Compress }
catch { @{ Id = `$_.FullyQualifiedErrorId; Message = `$_.Exception.Message } | ConvertTo-Json -Compress }
"@
        $r.Result.Id | Should -BeLike 'AwsConfiguration,*'
        $r.Result.Message | Should -Match 'No AWS credentials. Looked in'
        $r.Result.Message | Should -Match 'AWS_ACCESS_KEY_ID'
    }

    It 'refuses an unknown region, a bad app name and a role that is not an ARN before any call' -Tag 'Fast' {
        $r = Invoke-Aws @{ AWS_ACCESS_KEY_ID = 'testing'; AWS_SECRET_ACCESS_KEY = 'testing'; AWS_EC2_METADATA_DISABLED = 'true' } @"
`$ids = foreach (`$case in @(
    @{ AppName = 'ok'; Region = 'us-nowhere-1'; ExecutionRoleArn = '$role' },
    @{ AppName = 'bad_name'; Region = 'us-east-1'; ExecutionRoleArn = '$role' },
    @{ AppName = 'ok'; Region = 'us-east-1'; ExecutionRoleArn = 'not-an-arn' })) {
    try { Publish-MLModelSageMaker -Path '$model' -ImageUrl $image -EndpointUrl http://127.0.0.1:9 @case -ErrorAction Stop; 'none' }
    catch { `$_.FullyQualifiedErrorId.Split(',')[0] + ': ' + `$_.Exception.Message }
}
@{ Ids = @(`$ids) } | ConvertTo-Json -Compress
"@
        $r.Result.Ids[0] | Should -Match "^AwsConfiguration: 'us-nowhere-1' \(from -Region\) is not an AWS region"
        $r.Result.Ids[1] | Should -Match "^InvalidDeployment: The app name 'bad_name' has characters SageMaker refuses"
        $r.Result.Ids[2] | Should -Match "^InvalidDeployment: 'not-an-arn' is not an IAM role ARN"
    }

    It 'refuses to stop a transform job without waiting unless the model is kept, before any call' -Tag 'Fast' {
        $r = Invoke-Aws @{ AWS_ACCESS_KEY_ID = 'testing'; AWS_SECRET_ACCESS_KEY = 'testing'; AWS_EC2_METADATA_DISABLED = 'true' } @"
try { Stop-MLModelSageMakerTransform nightly -NoWait -Region us-east-1 -EndpointUrl http://127.0.0.1:9 -ErrorAction Stop; `$id = 'none' }
catch { `$id = `$_.FullyQualifiedErrorId.Split(',')[0] + ': ' + `$_.Exception.Message }
`$plan = Stop-MLModelSageMakerTransform nightly -Region us-east-1 -EndpointUrl http://127.0.0.1:9 -WhatIf 6>&1 | Out-String
@{ Id = `$id; Plan = `$plan } | ConvertTo-Json -Compress
"@
        $r.Result.Id | Should -Match '^InvalidTransform: Without waiting for the job to stop, its model cannot be cleaned up'
        $r.Text | Should -Match 'Stop, then delete its model and model data'
    }

    It 'runs a batch transform job over S3 prefixes and waits for it' -Tag 'Cloud' {
        if (Skip-WithoutMoto) { return }
        $job = 'job-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $r = Invoke-Aws $envCreds @"
`$j = Start-MLModelSageMakerTransform $job -Path '$model' -InputUri s3://in-$job/data/ -OutputUri s3://out-$job/ -ExecutionRoleArn $role -ImageUrl $image -Bucket 'b-$job' -Wait
`$g = Get-MLModelSageMakerTransform $job
@{ Status = `$j.Status; CleanedUp = `$j.CleanedUp; Get = `$g.Status; Input = `$g.InputUri } | ConvertTo-Json -Compress
"@
        $r.Result.Status | Should -Be 'Completed' -Because $r.Text
        $r.Result.CleanedUp.Count | Should -Be 2
        $r.Result.Get | Should -Be 'Completed'
        $r.Result.Input | Should -Be "s3://in-$job/data/"
    }
}
