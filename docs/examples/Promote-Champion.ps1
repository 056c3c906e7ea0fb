#requires -Version 7.4
<#
.SYNOPSIS
    A release step for a pipeline: score a labelled sample with the registry's champion and with a candidate version,
    and move the champion alias to the candidate when it does at least as well.
.DESCRIPTION
    The server and credentials come from MLflow's environment variables (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN or
    MLFLOW_TRACKING_USERNAME/PASSWORD; an azureml:// workspace URI uses the agent's Azure sign-in), or -TrackingUri.
    Both models are downloaded once into the model cache (MLMODELS_MODEL_CACHE), so a rerun scores without downloading.
    Scores are the root mean squared error against -LabelColumn; lower is better. Exit code 0 whether or not the alias
    moved; the object written says what happened. -WhatIf shows the alias move without making it.
.EXAMPLE
    # Azure DevOps: an AzurePowerShell@5 task, after the training job registered the candidate.
    ./docs/examples/Promote-Champion.ps1 -ModelName churn -CandidateVersion $(candidateVersion) -SampleCsv ./holdout.csv -LabelColumn churned
.EXAMPLE
    ./docs/examples/Promote-Champion.ps1 -ModelName churn -CandidateVersion 7 -SampleCsv ./holdout.csv -LabelColumn y -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $ModelName,
    [Parameter(Mandatory)] [string] $CandidateVersion,
    [Parameter(Mandatory)] [string] $SampleCsv,
    [Parameter(Mandatory)] [string] $LabelColumn,
    [string] $ChampionAlias = 'champion',
    # How much worse (in RMSE) the candidate may be and still be promoted; 0 means it must be at least as good.
    [double] $Tolerance = 0,
    [string] $TrackingUri
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module MlModels)) { Import-Module MlModels }

$server = @{}
if ($TrackingUri) { $server.TrackingUri = $TrackingUri }

# The sample: feature columns as numbers, the label kept apart.
$rows = Import-Csv $SampleCsv
$labels = $rows | ForEach-Object { [double]$_.$LabelColumn }
$features = $rows | ForEach-Object {
    $row = [ordered]@{}
    foreach ($p in $_.PSObject.Properties) { if ($p.Name -ne $LabelColumn) { $row[$p.Name] = [double]$p.Value } }
    [pscustomobject]$row
}

function Get-Rmse($model) {
    $predictions = @($features | Invoke-MLModelPrediction -Model $model)
    $sum = 0.0
    for ($i = 0; $i -lt $labels.Count; $i++) {
        # A single-output model's prediction is the first (only) property of each result row.
        $p = [double]@($predictions[$i].PSObject.Properties)[0].Value
        $sum += ($p - $labels[$i]) * ($p - $labels[$i])
    }
    [math]::Sqrt($sum / $labels.Count)
}

$champion = Get-MLModel -Uri "models:/$ModelName@$ChampionAlias" @server
$candidate = Get-MLModel -Uri "models:/$ModelName/$CandidateVersion" @server
Write-Verbose "Champion: version $($champion.Origin.Version) (run $($champion.Origin.RunId)); candidate: version $CandidateVersion (run $($candidate.Origin.RunId))."

$result = [pscustomobject]@{
    ModelName        = $ModelName
    ChampionVersion  = $champion.Origin.Version
    CandidateVersion = $CandidateVersion
    ChampionRmse     = Get-Rmse $champion
    CandidateRmse    = Get-Rmse $candidate
    Promoted         = $false
}

if ($champion.Origin.Version -eq $CandidateVersion) {
    Write-Verbose "Version $CandidateVersion is already '$ChampionAlias'."
}
elseif ($result.CandidateRmse -le $result.ChampionRmse + $Tolerance) {
    if ($PSCmdlet.ShouldProcess("models:/$ModelName/$CandidateVersion", "Move alias '$ChampionAlias' from version $($champion.Origin.Version)")) {
        Set-MLModelVersion -Name $ModelName -Version $CandidateVersion -Alias $ChampionAlias -Tag @{ previous_champion = $champion.Origin.Version } @server -Confirm:$false
        $result.Promoted = $true
    }
}
else {
    Write-Verbose "Candidate RMSE $($result.CandidateRmse) is worse than the champion's $($result.ChampionRmse) by more than $Tolerance; the alias stays."
}
$result
