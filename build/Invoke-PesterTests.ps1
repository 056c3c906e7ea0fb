# Runs the Pester suite in this (fresh) pwsh and writes a small JSON summary for build.ps1: counts, and each
# skipped test with its categories (its own tags and its blocks'), from which build.ps1 says what would enable it.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestPath,
    [Parameter(Mandatory)] [string] $SummaryPath,
    # Only tests carrying one of these tags (comma-separated): Fast, Python, Docker, Cloud, Node, Gpu.
    [string] $Tag
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
$result = Invoke-Pester -Configuration $config

function Get-Categories($test) {
    $tags = @($test.Tag)
    for ($b = $test.Block; $b; $b = $b.Parent) { $tags += @($b.Tag) }
    @($tags | Where-Object { $_ } | Sort-Object -Unique)
}

[pscustomobject]@{
    Passed       = $result.PassedCount
    Failed       = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped      = $result.SkippedCount
    # A test skipped with Set-ItResult -Skipped -Because carries its reason; one skipped by -Skip has only its categories.
    SkippedTests = @($result.Skipped | ForEach-Object {
            $because = @($_.ErrorRecord | ForEach-Object { $_.Exception.Message } | Where-Object { $_ -match 'because' }) | Select-Object -First 1
            [pscustomobject]@{ Name = $_.ExpandedPath; Categories = Get-Categories $_; Reason = $because }
        })
} | ConvertTo-Json -Depth 4 | Set-Content -Path $SummaryPath
