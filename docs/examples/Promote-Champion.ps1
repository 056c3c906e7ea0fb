#requires -Version 7.4
<#
.SYNOPSIS
    A release step for a pipeline: evaluate a candidate version against the registry's champion on a labelled sample,
    with MLflow's metrics and validation thresholds, and move the champion alias to the candidate when it passes.
.DESCRIPTION
    The server and credentials come from MLflow's environment variables (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN or
    MLFLOW_TRACKING_USERNAME/PASSWORD; an azureml:// workspace URI uses the agent's Azure sign-in), or -TrackingUri.
    Both models are downloaded once into the model cache (MLMODELS_MODEL_CACHE), so a rerun scores without downloading.
    Measure-MLModel scores both on the same rows in one pass and computes MLflow's default metrics; -Metric (default
    root_mean_squared_error for regressors, accuracy_score for classifiers) decides. With -Threshold or
    -MinAbsoluteChange the gate is MLflow's validation: a candidate that fails it stops the script with the error
    ModelValidationFailed (the pipeline step fails), after the evaluation was saved to -OutputPath. Without them the
    candidate is promoted when its metric is at least as good as the champion's. -WhatIf shows the alias move without
    making it.
.EXAMPLE
    # Azure DevOps: an AzurePowerShell@5 task, after the training job registered the candidate.
    ./docs/examples/Promote-Champion.ps1 -ModelName churn -CandidateVersion $(candidateVersion) -SampleCsv ./holdout.csv -LabelColumn churned -ModelType Classifier -Threshold 0.8 -MinAbsoluteChange 0.01
.EXAMPLE
    ./docs/examples/Promote-Champion.ps1 -ModelName churn -CandidateVersion 7 -SampleCsv ./holdout.csv -LabelColumn y -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $ModelName,
    [Parameter(Mandatory)] [string] $CandidateVersion,
    [Parameter(Mandatory)] [string] $SampleCsv,
    [Parameter(Mandatory)] [string] $LabelColumn,
    [ValidateSet('Regressor', 'Classifier')] [string] $ModelType = 'Regressor',
    # The MLflow metric that decides; its direction is known for the default metrics.
    [string] $Metric = $(if ($ModelType -eq 'Classifier') { 'accuracy_score' } else { 'root_mean_squared_error' }),
    # A value the candidate's metric must reach (MLflow's MetricThreshold threshold).
    [Nullable[double]] $Threshold,
    # How much better than the champion the candidate must be (MLflow's min_absolute_change; positive).
    [Nullable[double]] $MinAbsoluteChange,
    # Where the evaluation is saved (metrics.json, plots): the evidence a pipeline publishes.
    [string] $OutputPath = './evaluation',
    [string] $ChampionAlias = 'champion',
    [string] $TrackingUri
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module MlModels)) { Import-Module MlModels }

$server = @{}
if ($TrackingUri) { $server.TrackingUri = $TrackingUri }
$lowerIsBetter = 'mean_absolute_error', 'mean_squared_error', 'root_mean_squared_error', 'max_error', 'mean_absolute_percentage_error',
    'log_loss', 'false_positives', 'false_negatives'
$greaterIsBetter = $Metric -notin $lowerIsBetter

$champion = Get-MLModel -Uri "models:/$ModelName@$ChampionAlias" @server
$candidate = Get-MLModel -Uri "models:/$ModelName/$CandidateVersion" @server
Write-Verbose "Champion: version $($champion.Origin.Version) (run $($champion.Origin.RunId)); candidate: version $CandidateVersion (run $($candidate.Origin.RunId))."

$rule = @{ GreaterIsBetter = $greaterIsBetter }
if ($null -ne $Threshold) { $rule.Threshold = $Threshold }
if ($null -ne $MinAbsoluteChange) { $rule.MinAbsoluteChange = $MinAbsoluteChange }
$gate = @{}
if ($rule.Count -gt 1) { $gate.Threshold = @{ $Metric = $rule } }

# Stops with ModelValidationFailed when a threshold fails; the evaluation is in $OutputPath either way.
$evaluation = $candidate | Measure-MLModel -InputCsv $SampleCsv -Target $LabelColumn -ModelType $ModelType -Baseline $champion `
    -OutputPath $OutputPath -Force @gate -WhatIf:$false -Confirm:$false

$candidateValue = $evaluation.Metrics[$Metric]
$championValue = $evaluation.BaselineMetrics[$Metric]
$result = [pscustomobject]@{
    ModelName        = $ModelName
    ChampionVersion  = $champion.Origin.Version
    CandidateVersion = $CandidateVersion
    Metric           = $Metric
    ChampionValue    = $championValue
    CandidateValue   = $candidateValue
    Evaluation       = $evaluation.OutputPath
    Promoted         = $false
}
$atLeastAsGood = if ($greaterIsBetter) { $candidateValue -ge $championValue } else { $candidateValue -le $championValue }

if ($champion.Origin.Version -eq $CandidateVersion) {
    Write-Verbose "Version $CandidateVersion is already '$ChampionAlias'."
}
elseif ($gate.Count -gt 0 -or $atLeastAsGood) {
    if ($PSCmdlet.ShouldProcess("models:/$ModelName/$CandidateVersion", "Move alias '$ChampionAlias' from version $($champion.Origin.Version)")) {
        Set-MLModelVersion -Name $ModelName -Version $CandidateVersion -Alias $ChampionAlias -Tag @{ previous_champion = $champion.Origin.Version } @server -Confirm:$false
        $result.Promoted = $true
    }
}
else {
    Write-Verbose "Candidate $Metric $candidateValue is worse than the champion's $championValue; the alias stays."
}
$result
