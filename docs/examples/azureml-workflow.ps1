#requires -Version 7.4
<#
.SYNOPSIS
    MLflow's Azure ML workflow with the MlModels module: export, a local deployment, an online deployment, scoring,
    a traffic change, removal, and batch scoring.
.DESCRIPTION
    1. Export-MLModelAzureML writes a folder that deploys without the module (score.py, Azure ML YAML, create_service.sh).
    2. Publish-MLModelAzureML -Local runs the model's image in local Docker, answering Azure ML's contract
       (GET / and POST /score on port 5001), and the script sends it the request Azure ML will get: {"input_data": ...}.
    3. Publish-MLModelAzureML deploys 'blue' to a managed online endpoint; Invoke-MLModelAzureMLEndpoint scores on it.
    4. A second deployment, 'green', comes up with no traffic; Set-MLModelAzureMLEndpoint sends it 10 %.
    5. Remove-MLModelAzureMLEndpoint deletes the endpoint with its deployments.
    6. Publish-MLModelAzureML -Batch makes a batch endpoint on a compute cluster; Start-MLModelAzureMLBatchJob scores a
       folder of files on it and Get-MLModelAzureMLBatchJob reads the job back.
    Sign in first (Connect-AzAccount, az login, or a pipeline's service connection); the script returns what each step gave.
.EXAMPLE
    Connect-AzAccount
    ./azureml-workflow.ps1 -ModelPath ./models/churn -ResourceGroupName ml-rg -WorkspaceName ml-ws -ComputeName cpu-cluster `
        -SampleCsv ./models/churn/sample/input.csv -BatchInputUri azureml://datastores/workspaceblobstore/paths/churn/input/
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModelPath,
    [Parameter(Mandatory)] [string] $ResourceGroupName,
    [Parameter(Mandatory)] [string] $WorkspaceName,
    [Parameter(Mandatory)] [string] $SampleCsv,
    [string] $SubscriptionId,
    [string] $EndpointName = 'churn-endpoint',
    [string] $BatchEndpointName = 'churn-batch',
    [string] $ComputeName = 'cpu-cluster',
    [string] $BatchInputUri = 'azureml://datastores/workspaceblobstore/paths/churn/input/',
    [string] $ExportPath = (Join-Path ([IO.Path]::GetTempPath()) 'azureml-export'),
    [string] $InstanceType = 'Standard_DS3_v2',
    # Host port of the local deployment (Azure ML's own is 5001); more -Local settings (Image, BaseImage, DotnetImage).
    [int] $LocalPort = 5001,
    [hashtable] $LocalOptions = @{},
    # A private cloud's Resource Manager and a token obtained elsewhere; by default, AzureCloud and the credential chain.
    [uri] $ResourceManagerUrl,
    [securestring] $AccessToken
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module MlModels)) { Import-Module MlModels }

$azure = @{ ResourceGroupName = $ResourceGroupName; WorkspaceName = $WorkspaceName }
if ($SubscriptionId) { $azure.SubscriptionId = $SubscriptionId }
if ($ResourceManagerUrl) { $azure.ResourceManagerUrl = $ResourceManagerUrl }
if ($AccessToken) { $azure.AccessToken = $AccessToken }

# The sample's columns are numbers; they travel as numbers, as the model's signature takes them.
$columns = @((Import-Csv $SampleCsv | Select-Object -First 1).PSObject.Properties.Name)
$rows = @(Import-Csv $SampleCsv | ForEach-Object { $o = [ordered]@{}; foreach ($c in $columns) { $o[$c] = [double]$_.$c }; [pscustomobject]$o })
# Azure ML's request form for MLflow models: a split-orient table under input_data.
$request = @{ input_data = @{
        columns = $columns
        index   = @(0..($rows.Count - 1))
        data    = @($rows | ForEach-Object { $row = $_; , @($columns | ForEach-Object { $row.$_ }) })
    } } | ConvertTo-Json -Depth 6 -Compress

# 1. The folder Azure ML's own CLI deploys (create_service.sh), or this module (deploy.ps1).
$export = Export-MLModelAzureML -Path $ModelPath -DestinationPath $ExportPath -EndpointName $EndpointName -Force

# 2. Local deployment: the same request Azure ML will get, answered as Azure ML answers it.
$local = Publish-MLModelAzureML -Local -Path $ModelPath -EndpointName $EndpointName -Port $LocalPort @LocalOptions
try {
    $liveness = Invoke-RestMethod -Uri ([uri]::new($local.ScoringUri, '/'))
    $localPredictions = Invoke-RestMethod -Method Post -Uri $local.ScoringUri -ContentType 'application/json' -Body $request
}
finally {
    $local.Container | Stop-MLModelContainer
}

# 3. Online endpoint with the first deployment, and scoring on it.
$blue = Publish-MLModelAzureML -Path $ModelPath -EndpointName $EndpointName -DeploymentName blue -InstanceType $InstanceType @azure
$onlinePredictions = $rows | Invoke-MLModelAzureMLEndpoint -Name $EndpointName @azure

# 4. A second deployment with no traffic, smoke-tested on its own, then 10 % of the traffic.
Publish-MLModelAzureML -Path $ModelPath -EndpointName $EndpointName -DeploymentName green -InstanceType $InstanceType -Traffic @{ blue = 100; green = 0 } @azure | Out-Null
$greenPredictions = $rows | Invoke-MLModelAzureMLEndpoint -Name $EndpointName -DeploymentName green @azure
$split = Set-MLModelAzureMLEndpoint -Name $EndpointName -Traffic @{ blue = 90; green = 10 } @azure

# 5. Removal of the endpoint and its deployments.
Remove-MLModelAzureMLEndpoint -Name $EndpointName -Confirm:$false @azure
$afterRemove = Get-MLModelAzureMLEndpoint -Name $EndpointName @azure -ErrorAction SilentlyContinue

# 6. Batch scoring: data past one machine goes to a compute cluster.
$batch = Publish-MLModelAzureML -Batch -Path $ModelPath -EndpointName $BatchEndpointName -ComputeName $ComputeName @azure
$job = Start-MLModelAzureMLBatchJob -EndpointName $BatchEndpointName -InputUri $BatchInputUri @azure
$jobNow = Get-MLModelAzureMLBatchJob -Name $job.Name @azure

[pscustomobject]@{
    Export            = $export
    Local             = $local
    LocalLiveness     = $liveness
    LocalPredictions  = $localPredictions
    Online            = $blue
    OnlinePredictions = $onlinePredictions
    GreenPredictions  = $greenPredictions
    Traffic           = $split.Traffic
    RemovedEndpoint   = $null -eq $afterRemove
    Batch             = $batch
    BatchJob          = $jobNow
}
