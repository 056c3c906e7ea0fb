# A short tour of MlModels with the models in this folder: list, validate, change, save.
# Run it with: dotnet pwsh ./build.ps1 demo
param([string] $ModulePath = (Join-Path $PSScriptRoot '../out/MlModels'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

Write-Host "`n== Every model under examples/ ==" -ForegroundColor Cyan
$models = Get-MLModel $PSScriptRoot -Recurse
$models | Format-Table | Out-Host

Write-Host "== Are they valid? ==" -ForegroundColor Cyan
$models | Test-MLModel | Format-Table | Out-Host
Write-Host "Findings for pyfunc-custom:"
($models | Where-Object Name -eq 'pyfunc-custom' | Test-MLModel).Findings | Format-Table | Out-Host

Write-Host "== Change one and save it elsewhere ==" -ForegroundColor Cyan
$target = Join-Path ([IO.Path]::GetTempPath()) "mlmodels-demo-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
$saved = $models | Where-Object Name -eq 'pyfunc-custom' |
    Set-MLModelSignature -Inputs @{ name = 'x1'; type = 'double' }, @{ name = 'x2'; type = 'double' } -Outputs @{ type = 'double' } -PassThru |
    Add-MLFlavor custom_linear @{ weights = 'data/weights.json'; features = @('x1', 'x2') } -PassThru |
    Save-MLModel -Path $target -PassThru
Write-Host "Saved to $target; its files:"
Get-ChildItem $target -Recurse -File | ForEach-Object { '  ' + [IO.Path]::GetRelativePath($target, $_.FullName) } | Out-Host
Write-Host "`nThe MLmodel it wrote:"
Get-Content (Join-Path $target 'MLmodel') | Out-Host

Write-Host "`n== Read it back ==" -ForegroundColor Cyan
Get-MLModel $target | Format-List | Out-Host
$saved.Signature.Inputs.Columns | Format-Table | Out-Host
Remove-Item $target -Recurse -Force

Write-Host "`n== Score an ONNX model natively (no Python) ==" -ForegroundColor Cyan
$onnx = Get-MLModel (Join-Path $PSScriptRoot 'onnx-linear')
Write-Host "Inputs: $($onnx.Signature.Inputs)   Outputs: $($onnx.Signature.Outputs)"
$onnx | Invoke-MLModelPrediction -InputCsv (Join-Path $PSScriptRoot 'scoring-input.csv') -IncludeInput | Format-Table | Out-Host
Write-Host "Its saved input example:"
$onnx | Invoke-MLModelPrediction -UseInputExample | Format-Table | Out-Host
