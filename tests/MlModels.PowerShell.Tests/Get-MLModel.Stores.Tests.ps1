BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $moto = $env:MLMODELS_TEST_MOTO_URL

    # moto runs in CI (.ci/services/moto.sh); elsewhere these tests skip unless MLMODELS_TEST_MOTO_URL is set.
    function Skip-WithoutMoto {
        if ($moto) { return $false }
        if ($env:CI) { throw 'CI must provide moto_server (MLMODELS_TEST_MOTO_URL), but it is missing.' }
        Set-ItResult -Skipped -Because 'moto_server is not running here (MLMODELS_TEST_MOTO_URL); CI starts it'
        return $true
    }

    # A model folder put into moto's S3 the way MLflow's S3 repository lays out a run's artifacts (boto3, Debian's).
    function Copy-ToS3([string] $Folder, [string] $Bucket, [string] $Prefix) {
        $py = @"
import boto3, os, sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='testing', aws_secret_access_key='testing', region_name='us-east-1')
s3.create_bucket(Bucket=sys.argv[2])
root = sys.argv[4]
for d, _, files in os.walk(root):
    for f in files:
        rel = os.path.relpath(os.path.join(d, f), root).replace(os.sep, '/')
        s3.upload_file(os.path.join(d, f), sys.argv[2], sys.argv[3] + '/' + rel)
"@
        $out = & /usr/bin/python3 -c $py $moto $Bucket $Prefix $Folder 2>&1
        if ($LASTEXITCODE -ne 0) { throw "boto3 upload failed: $out" }
    }
}

Describe 'Get-MLModel -Uri with a store''s own URI' -Tag 'Cloud' {
    It 'loads an ONNX model from s3:// (MLFLOW_S3_ENDPOINT_URL, credentials from the environment) and scores it as the local folder scores' {
        if (Skip-WithoutMoto) { return }
        $bucket = 'mlmodels-' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        $folder = Join-Path $Examples 'onnx-linear'
        Copy-ToS3 $folder $bucket 'mlartifacts/1/run1/artifacts/model'
        $csv = Join-Path $TestDrive 'in.csv'
        "x1,x2,x3`n1,2,3`n4,5,6" | Set-Content $csv
        $cache = Join-Path $TestDrive 'cache'
        $lines = Invoke-FreshPwsh @"
`$env:MLFLOW_S3_ENDPOINT_URL = '$moto'; `$env:AWS_ACCESS_KEY_ID = 'testing'; `$env:AWS_SECRET_ACCESS_KEY = 'testing'
`$env:MLMODELS_MODEL_CACHE = '$cache'; Remove-Item Env:MLFLOW_TRACKING_URI -ErrorAction Ignore
Import-Module '$ModulePath'
`$m = Get-MLModel -Uri 's3://$bucket/mlartifacts/1/run1/artifacts/model' -ErrorAction Stop
`$remote = `$m | Invoke-MLModelPrediction -InputCsv '$csv' | ConvertTo-Json -Compress
`$local = Get-MLModel '$folder' | Invoke-MLModelPrediction -InputCsv '$csv' | ConvertTo-Json -Compress
[pscustomobject]@{ Same = (`$remote -eq `$local); Remote = `$remote; Origin = `$m.Origin.ArtifactUri } | ConvertTo-Json -Compress
"@
        $r = ($lines | ForEach-Object ToString | Where-Object { $_ -like '{*' } | Select-Object -Last 1) | ConvertFrom-Json
        $r.Origin | Should -Be "s3://$bucket/mlartifacts/1/run1/artifacts/model"
        $r.Remote | Should -Not -BeNullOrEmpty
        $r.Same | Should -BeTrue
    }

    It 'names the bucket that does not exist' {
        if (Skip-WithoutMoto) { return }
        $lines = Invoke-FreshPwsh @"
`$env:MLFLOW_S3_ENDPOINT_URL = '$moto'; `$env:AWS_ACCESS_KEY_ID = 'testing'; `$env:AWS_SECRET_ACCESS_KEY = 'testing'
`$env:MLMODELS_MODEL_CACHE = '$(Join-Path $TestDrive 'cache2')'
Import-Module '$ModulePath'
Get-MLModel -Uri 's3://no-such-bucket-mlmodels/m' -ErrorVariable e -ErrorAction SilentlyContinue
'ERR1 ' + `$e[0].FullyQualifiedErrorId + ' ' + `$e[0].Exception.Message
"@
        $text = ($lines | ForEach-Object ToString) -join "`n"
        $text | Should -Match 'ERR1 ArtifactNotFound,.*s3://no-such-bucket-mlmodels'
    }

    It 'hands a model read from S3 to Publish-MLModelSageMaker in place; -Upload packs it as MLflow does' {
        if (Skip-WithoutMoto) { return }
        $bucket = 'mlmodels-' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        Copy-ToS3 (Join-Path $Examples 'pyfunc-custom') $bucket 'mlartifacts/1/run1/artifacts/model'
        $lines = Invoke-FreshPwsh @"
`$env:MLFLOW_S3_ENDPOINT_URL = '$moto'; `$env:AWS_ENDPOINT_URL = '$moto'; `$env:AWS_REGION = 'us-east-1'
`$env:AWS_ACCESS_KEY_ID = 'testing'; `$env:AWS_SECRET_ACCESS_KEY = 'testing'; `$env:AWS_EC2_METADATA_DISABLED = 'true'
`$env:MLMODELS_MODEL_CACHE = '$(Join-Path $TestDrive 'cache3')'
Import-Module '$ModulePath'
`$m = Get-MLModel -Uri 's3://$bucket/mlartifacts/1/run1/artifacts/model' -ErrorAction Stop
`$role = 'arn:aws:iam::123456789012:role/sagemaker-execution'; `$image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:1'
'@@INPLACE@@'
`$m | Publish-MLModelSageMaker -AppName inplace-app -ExecutionRoleArn `$role -ImageUrl `$image -WhatIf
'@@UPLOAD@@'
`$m | Publish-MLModelSageMaker -AppName inplace-app -ExecutionRoleArn `$role -ImageUrl `$image -Upload -WhatIf
'@@END@@'
"@
        # What if: goes to the host, so the fresh pwsh's output is cut at the markers.
        $text = ($lines | ForEach-Object ToString) -join ' '
        $inPlace = ($text -split '@@INPLACE@@')[1] -split '@@UPLOAD@@' | Select-Object -First 1
        $upload = (($text -split '@@UPLOAD@@')[1] -split '@@END@@')[0]
        $inPlace | Should -Match ([regex]::Escape("read in place from s3://$bucket/mlartifacts/1/run1/artifacts/model/"))
        $inPlace | Should -Not -Match 'PutObject'
        $upload | Should -Match 'PutObject \(multipart\) s3://mlflow-sagemaker-us-east-1-123456789012/'
    }
}
