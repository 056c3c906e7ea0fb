#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates the MlModels module.
.DESCRIPTION
    build : compiles and lays out the importable module at out/MlModels (help, formats, isolated dependencies).
    test  : build, then xUnit (core) and Pester (cmdlets, in a fresh pwsh); the last line is "N passed, N failed".
    demo  : build, then imports the module from out/ and works through the models in examples/.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'clean')]
    [string] $Task = 'build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'MlModels'

# A fresh pwsh of the same version as this one (as a dotnet tool, pwsh runs as "dotnet pwsh.dll").
function Invoke-Pwsh {
    $self = (Get-Process -Id $PID).Path
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { & $self (Join-Path $PSHOME 'pwsh.dll') @args }
    else { & $self @args }
}

function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed (exit code $LASTEXITCODE)." }
}

function Invoke-Build {
    $manifest = Import-PowerShellDataFile (Join-Path $root 'MlModels.psd1')
    $version = $manifest.ModuleVersion
    $publish = Join-Path $out 'publish'
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $root 'src/MlModels.PowerShell/MlModels.PowerShell.csproj') -c $Configuration -o $publish -p:Version=$version --nologo -v quiet }

    # The cmdlet assembly sits at the top; Core and every third-party assembly go under dependencies/,
    # where only the module's own load context looks for them.
    $deps = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'dependencies') -Force
    Copy-Item (Join-Path $publish 'MlModels.PowerShell.dll') $moduleOut
    Get-ChildItem $publish -File | Where-Object { $_.Name -ne 'MlModels.PowerShell.dll' -and $_.Extension -in '.dll', '.so', '.dylib' } |
        Copy-Item -Destination $deps
    # Native libraries for the platforms the module supports, loaded by absolute path from here.
    foreach ($rid in 'win-x64', 'linux-x64', 'linux-arm64', 'osx-arm64') {
        $native = Join-Path $publish "runtimes/$rid/native"
        if (-not (Test-Path $native)) { continue }
        $dest = New-Item -ItemType Directory -Path (Join-Path $deps "runtimes/$rid/native") -Force
        Get-ChildItem $native -File | Where-Object Extension -notin '.lib', '.pdb' | Copy-Item -Destination $dest
    }
    Copy-Item (Join-Path $root 'src/MlModels.PowerShell/MlModels.Format.ps1xml') $moduleOut

    # The scoring server: its own process, framework-dependent (ASP.NET Core 8.0 or later). It sits in dependencies/
    # beside the same Core and ONNX Runtime the cmdlets use, so the native libraries ship once.
    $serverPublish = Join-Path $out 'publish-server'
    if (Test-Path $serverPublish) { Remove-Item $serverPublish -Recurse -Force }
    Invoke-Native 'dotnet publish (server)' { dotnet publish (Join-Path $root 'src/MlModels.Server/MlModels.Server.csproj') -c $Configuration -o $serverPublish -p:Version=$version --nologo -v quiet }
    foreach ($file in Get-ChildItem $serverPublish -File | Where-Object { $_.Extension -in '.dll', '.json' -and $_.Name -notlike '*staticwebassets*' }) {
        $existing = Join-Path $deps $file.Name
        if ((Test-Path $existing) -and (Get-FileHash $existing).Hash -ne (Get-FileHash $file.FullName).Hash) {
            throw "The server and the module disagree on $($file.Name); both must build against the same versions."
        }
        Copy-Item $file.FullName $deps -Force
    }

    # The manifest is copied as it is: it is the source of the version, which the publish steps above stamped into
    # every assembly (-p:Version); Module.Tests.ps1 checks the two agree.
    $psd1 = Get-Content (Join-Path $root 'MlModels.psd1') -Raw
    Set-Content -Path (Join-Path $moduleOut 'MlModels.psd1') -Value $psd1 -NoNewline

    # Help: docs/cmdlets/*.md (platyPS layout) plus the cmdlets' own metadata, turned into MAML in a fresh pwsh.
    $helpDir = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US') -Force
    Copy-Item (Join-Path $root 'docs/about_MlModels.help.txt') $helpDir
    Invoke-Native 'help generation' {
        Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'build/New-MamlHelp.ps1') -ModulePath $moduleOut -DocsPath (Join-Path $root 'docs/cmdlets') -OutFile (Join-Path $helpDir 'MlModels.PowerShell.dll-Help.xml')
    }
    Write-Host "Module $version built at $moduleOut"
}

# A version pinned in Directory.Packages.props, the one place versions are written.
function Get-PinnedVersion([string] $property) {
    $props = [xml](Get-Content (Join-Path $root 'Directory.Packages.props') -Raw)
    $version = @($props.Project.PropertyGroup | ForEach-Object { $_.$property } | Where-Object { $_ })[0]
    if (-not $version) { throw "Directory.Packages.props pins no $property." }
    $version
}

function Get-PesterPath {
    Invoke-Native 'restore test tools' { dotnet restore (Join-Path $root 'build/tools.proj') --nologo -v quiet }
    $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    [pscustomobject]@{
        Pester    = Join-Path $nuget "pester/$(Get-PinnedVersion PesterVersion)/tools/Pester.psd1"
        OtherYaml = Join-Path $nuget "yamldotnet/$(Get-PinnedVersion OtherYamlDotNetVersion)/lib/netstandard2.1/YamlDotNet.dll"
    }
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $out 'test-results'
    New-Item -ItemType Directory -Path $results -Force | Out-Null
    Remove-Item (Join-Path $results '*') -Force -ErrorAction Ignore

    # xUnit: the core library, the server and the deployment targets on .NET 10; then Core and the server again on
    # .NET 8, the runtime of PowerShell 7.4 (the lowest the manifest supports). That run is self-contained: the SDK
    # restores the .NET 8 and ASP.NET Core 8 runtime packs from NuGet, so no .NET 8 install is needed.
    $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    $runs = @(
        @{ Project = 'MlModels.Core.Tests'; Name = 'MlModels.Core.Tests'; Args = @('-f', 'net10.0') }
        @{ Project = 'MlModels.Server.Tests'; Name = 'MlModels.Server.Tests'; Args = @('-f', 'net10.0') }
        @{ Project = 'MlModels.Deploy.Tests'; Name = 'MlModels.Deploy.Tests'; Args = @() }
        @{ Project = 'MlModels.Core.Tests'; Name = 'MlModels.Core.Tests.net8'; Args = @('-f', 'net8.0', '-r', $rid, '-p:SelfContained=true') }
        # The Python worker is its own process, the same on either runtime: its tests run once, on .NET 10.
        @{ Project = 'MlModels.Server.Tests'; Name = 'MlModels.Server.Tests.net8'; Args = @('-f', 'net8.0', '-r', $rid, '-p:SelfContained=true', '--filter', 'FullyQualifiedName!~PythonServerTests') }
    )
    $xPassed = 0; $xFailed = 0
    foreach ($run in $runs) {
        $project = $run.Name
        & dotnet test (Join-Path $root "tests/$($run.Project)/$($run.Project).csproj") -c $Configuration --nologo @($run.Args) `
            --logger "trx;LogFileName=$project.trx" --results-directory $results
        $trx = Join-Path $results "$project.trx"
        if (Test-Path $trx) {
            $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
            $xPassed += [int]$counters.passed
            $xFailed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout
        }
        else { $xFailed += 1; Write-Warning "$project produced no results." }
    }

    # Pester, in a fresh pwsh against the built module.
    $tools = Get-PesterPath
    $summary = Join-Path $results 'pester.json'
    $env:MLMODELS_MODULE = $moduleOut
    $env:MLMODELS_OTHER_YAMLDOTNET = $tools.OtherYaml
    $env:MLMODELS_REPO = $root
    Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'build/Invoke-PesterTests.ps1') -PesterPath $tools.Pester -TestPath (Join-Path $root 'tests/MlModels.PowerShell.Tests') -SummaryPath $summary
    $pPassed = 0; $pFailed = 0
    if (Test-Path $summary) {
        $p = Get-Content $summary -Raw | ConvertFrom-Json
        $pPassed = $p.Passed; $pFailed = $p.Failed
    }
    else { $pFailed = 1; Write-Warning 'Pester produced no results.' }

    Write-Host "xUnit: $xPassed passed, $xFailed failed; Pester: $pPassed passed, $pFailed failed"
    $failed = $xFailed + $pFailed
    Write-Host "$($xPassed + $pPassed) passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'examples/demo.ps1') -ModulePath $moduleOut
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'clean' { if (Test-Path $out) { Remove-Item $out -Recurse -Force } }
}
