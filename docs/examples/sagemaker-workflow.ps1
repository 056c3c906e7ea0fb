#requires -Version 7.4
<#
.SYNOPSIS
    MLflow's SageMaker workflow with MlModels: build and push the serving image, run the model locally, deploy it,
    replace it, look at it, ask it for predictions and delete it.
.DESCRIPTION
    Each step is the MlModels cmdlet for an MLflow command:

      mlflow sagemaker build-and-push-container    Publish-MLModelSageMakerImage
      mlflow sagemaker run-local                   Start-MLModelSageMakerLocal (then /ping and /invocations, JSON and CSV)
      mlflow sagemaker deploy --mode create        Publish-MLModelSageMaker -Mode Create
      mlflow sagemaker deploy --mode replace       Publish-MLModelSageMaker -Mode Replace
      mlflow deployments get -t sagemaker          Get-MLModelSageMakerDeployment
      mlflow deployments predict -t sagemaker      Invoke-MLModelSageMakerEndpoint
      mlflow sagemaker delete                      Remove-MLModelSageMakerDeployment -IncludeModelData

    AWS credentials, region and endpoints are found as AWS.Tools finds them: -ProfileName and -Region, else the AWS_*
    environment variables and the shared config files (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> included).
    The Docker engine is DOCKER_HOST's, else the platform's socket.

    The script returns one object holding what each step gave. The run-local container is stopped at the end, also
    when a step fails; an endpoint a failed step leaves is named in the error.
.PARAMETER ModelPath
    The MLflow model folder to deploy (a python_function flavor, as MLflow's serving image needs).
.PARAMETER ReplacementModelPath
    The model that -Mode Replace puts behind the endpoint (default: -ModelPath again).
.PARAMETER InputCsv
    A CSV file with a header row: sent to the model as text/csv, and as MLflow JSON (dataframe_split, numbers as numbers).
.PARAMETER PredictWith
    Endpoint (default) asks the SageMaker endpoint; Local asks the run-local container the same request, for an AWS
    stand-in that keeps endpoints but runs no containers (a local emulator such as moto).
.EXAMPLE
    ./sagemaker-workflow.ps1 -ModelPath ./churn-model -AppName churn -ExecutionRoleArn arn:aws:iam::123456789012:role/sagemaker -Region eu-west-1 -InputCsv ./customers.csv

    Builds mlflow-pyfunc:<module version>, pushes it to this account's ECR, serves the model on 127.0.0.1:5000 as
    SageMaker would, deploys it as the endpoint 'churn', replaces it, scores customers.csv there and deletes it all.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModelPath,
    [Parameter(Mandatory)] [string] $AppName,
    [Parameter(Mandatory)] [string] $ExecutionRoleArn,
    [Parameter(Mandatory)] [string] $InputCsv,
    [string] $ReplacementModelPath,
    [string] $Region,
    [string] $ProfileName,
    [string] $Bucket,
    [string] $Repository = 'mlflow-pyfunc',
    [string] $Tag,
    # Base images of the serving image (defaults: Python's and Microsoft's .NET images, as Publish-MLModelSageMakerImage has them).
    [string] $BaseImage,
    [string] $DotnetImage,
    [ValidateRange(0, 65535)] [int] $LocalPort = 5000,
    [string] $InstanceType = 'ml.m5.large',
    [ValidateSet('Endpoint', 'Local')] [string] $PredictWith = 'Endpoint',
    [ValidateRange(1, 86400)] [int] $Timeout = 1800
)

$ErrorActionPreference = 'Stop'
if (-not (Get-Module MlModels)) { Import-Module MlModels }

$aws = @{}
if ($Region) { $aws.Region = $Region }
if ($ProfileName) { $aws.ProfileName = $ProfileName }
$deploy = @{ ExecutionRoleArn = $ExecutionRoleArn; InstanceType = $InstanceType; Timeout = $Timeout } + $aws
if ($Bucket) { $deploy.Bucket = $Bucket }

# The input, once as CSV text and once as the MLflow JSON request the same rows make.
$csvPath = (Resolve-Path -LiteralPath $InputCsv).ProviderPath
$rows = @(Import-Csv -LiteralPath $csvPath)
$columns = @($rows[0].PSObject.Properties.Name)
$data = @(foreach ($row in $rows) {
        , @(foreach ($c in $columns) {
                $number = 0.0
                if ([double]::TryParse($row.$c, [Globalization.NumberStyles]::Float, [Globalization.CultureInfo]::InvariantCulture, [ref] $number)) { $number } else { $row.$c }
            })
    })
$json = @{ dataframe_split = @{ columns = $columns; data = $data } } | ConvertTo-Json -Depth 10 -Compress

# 1. mlflow sagemaker build-and-push-container
$image = @{ Repository = $Repository } + $aws
if ($Tag) { $image.Tag = $Tag }
if ($BaseImage) { $image.BaseImage = $BaseImage }
if ($DotnetImage) { $image.DotnetImage = $DotnetImage }
$imageUrl = Publish-MLModelSageMakerImage @image
Write-Verbose "Pushed $imageUrl"

$local = $null
try {
    # 2. mlflow sagemaker run-local: the pushed image, the model at /opt/ml/model, SageMaker's environment.
    $local = Start-MLModelSageMakerLocal -Path $ModelPath -Image $imageUrl -Port $LocalPort
    $ping = Invoke-WebRequest -Uri "$($local.Url)ping" -SkipHttpErrorCheck
    $localAnswers = [pscustomobject]@{
        Url  = $local.Url
        Ping = [int]$ping.StatusCode
        JsonRequest = $json
        Json = Invoke-MLModelSageMakerEndpoint -Uri $local.Url -Body $json -ContentType 'application/json' -Raw
        Csv  = Invoke-MLModelSageMakerEndpoint -Uri $local.Url -InputCsv $csvPath -Raw
    }

    # 3. mlflow sagemaker deploy --mode create
    $created = Publish-MLModelSageMaker -AppName $AppName -Path $ModelPath -ImageUrl $imageUrl -Mode Create @deploy

    # 4. mlflow sagemaker deploy --mode replace: a new model and configuration; the old ones are deleted once it serves.
    $replacement = if ($ReplacementModelPath) { $ReplacementModelPath } else { $ModelPath }
    $replaced = Publish-MLModelSageMaker -AppName $AppName -Path $replacement -ImageUrl $imageUrl -Mode Replace @deploy

    # 5. mlflow deployments get -t sagemaker
    $deployment = Get-MLModelSageMakerDeployment -AppName $AppName @aws

    # 6. mlflow deployments predict -t sagemaker
    $target = if ($PredictWith -eq 'Local') { @{ Uri = $local.Url } } else { @{ EndpointName = $AppName } + $aws }
    $predictions = Invoke-MLModelSageMakerEndpoint @target -Body $json -ContentType 'application/json' -Raw

    # 7. mlflow sagemaker delete: the endpoint, its configuration, its models and their model.tar.gz.
    $removal = Remove-MLModelSageMakerDeployment -AppName $AppName -IncludeModelData -PassThru -Confirm:$false @aws

    [pscustomobject]@{
        ImageUrl    = $imageUrl
        Local       = $localAnswers
        Created     = $created
        Replaced    = $replaced
        Deployment  = $deployment
        PredictedBy = $PredictWith
        Predictions = $predictions
        Removal     = $removal
    }
}
finally {
    if ($local) { $local | Stop-MLModelContainer -TimeoutSec 10 }
}
