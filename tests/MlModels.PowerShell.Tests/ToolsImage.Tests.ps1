# The image for pipelines (build.ps1 image-tools): pwsh and the module installed from its package, on the local
# ASP.NET Core base of .ci/services/dockerd.sh; inside it, as a container job's own user, the ONNX part of the main job
# and the server in the background. The examples go in read-only, as a pipeline's checkout would.
BeforeDiscovery {
    $hasDocker = [bool]$env:DOCKER_HOST -and [bool]$env:MLMODELS_TEST_DOTNET_BASE -and [bool](Get-Command docker -ErrorAction Ignore)
    if (-not $hasDocker -and $env:CI) { throw 'CI must start a Docker engine with the local base images (.ci/services/dockerd.sh).' }
    $skipDocker = -not $hasDocker
}

Describe 'The image for pipelines' -Tag 'Docker' -Skip:$skipDocker {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $tag = "mlmodels-pester/tools:$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'MlModels.psd1')
        $version = if ($manifest.PrivateData.PSData['Prerelease']) { "$($manifest.ModuleVersion)-$($manifest.PrivateData.PSData.Prerelease)" } else { $manifest.ModuleVersion }
        $pwshVersion = (Get-Content (Join-Path $RepoRoot '.config/dotnet-tools.json') -Raw | ConvertFrom-Json).tools.powershell.version

        # From the module the run built (beside it, in out/): packaged again, then the image.
        $build = Join-Path $RepoRoot 'build.ps1'
        $buildLog = @(Invoke-FreshPwsh "& '$build' image-tools -NoBuild -OutputPath '$(Split-Path $ModulePath)' -BaseImage '$env:MLMODELS_TEST_DOTNET_BASE' -Tag '$tag'" |
                ForEach-Object { "$_" })
        if ($LASTEXITCODE -ne 0) { throw "build.ps1 image-tools failed:`n$($buildLog -join "`n")" }

        # What a pipeline step runs in it: the lines say what each step gave.
        $checks = @'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
"user=$(& id -u)"
"pwsh=$($PSVersionTable.PSVersion)"
Import-Module MlModels
$m = Get-Module MlModels
"imported=$($m.Version)-$($m.PrivateData.PSData.Prerelease)"
"base=$($m.ModuleBase)"
"installed=$((Get-InstalledPSResource MlModels -Scope AllUsers | ForEach-Object { "$($_.Version)-$($_.Prerelease)" }) -join ',')"
$onnx = Get-MLModel /work/examples/onnx-linear | Invoke-MLModelPrediction -InputCsv /work/examples/scoring-input.csv 3>$null
"onnx=$(@($onnx | ForEach-Object { $_.variable.ToString('R') }) -join ';')"
$server = Get-MLModel /work/examples/onnx-linear | Start-MLModelServer -Background -Port 8080 3>$null
try {
    "ping=$((Invoke-WebRequest "$($server.Url)/ping").StatusCode)"
    "version=$((Invoke-WebRequest "$($server.Url)/version").Content)"
}
finally { $server | Stop-MLModelServer }
'@
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($checks))
        # A user other than root with a home of its own, as the agent's `docker exec` runs each step.
        $lines = @(& docker run --rm --user 1001:1001 -e HOME=/tmp -v "$($Examples):/work/examples:ro" $tag pwsh -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 |
                ForEach-Object { "$_" })
        $text = $lines -join "`n"
        $r = @{}
        foreach ($line in $lines) { if ($line -match '^([a-z]+)=(.*)$') { $r[$Matches[1]] = $Matches[2] } }
    }
    AfterAll {
        if ($tag) {
            $left = @(& docker ps -aq --filter "ancestor=$tag")
            if ($left) { & docker rm -f @left *> $null }
            & docker image rm -f $tag *> $null
        }
    }

    It 'is built from the package on the ASP.NET Core base, with pwsh from the tool package' {
        $labels = & docker image inspect $tag --format '{{json .Config.Labels}}' | ConvertFrom-Json
        $labels.'org.opencontainers.image.version' | Should -Be $version
        $labels.'mlmodels.pwsh.version' | Should -Be $pwshVersion
        $labels.'mlmodels.base' | Should -Be $env:MLMODELS_TEST_DOTNET_BASE
        # The build's own check ran pwsh on the base's .NET and imported the module.
        $buildLog -join "`n" | Should -Match "pwsh $([regex]::Escape($pwshVersion)), MlModels \S+ in /usr/local/share/powershell/Modules/MlModels/"
        # ONNX Runtime for Linux alone: the Windows and macOS natives of the package are left out.
        (& docker run --rm $tag sh -c 'ls /usr/local/share/powershell/Modules/MlModels/*/dependencies/runtimes') -join ',' | Should -Be 'linux-arm64,linux-x64'
        # What an Azure Pipelines container job needs: no ENTRYPOINT, root as the image's user (the agent adds its own).
        & docker image inspect $tag --format '{{json .Config.Entrypoint}}|{{.Config.User}}' | Should -Be 'null|'
    }

    It 'imports the module by name from the all-users path, as PSResourceGet installed it' {
        $r['user'] | Should -Be '1001' -Because $text
        $r['pwsh'] | Should -Be $pwshVersion -Because $text
        $r['imported'] | Should -Be ($version -replace '^([^-]+)$', '$1-') -Because $text
        $r['base'] | Should -BeLike '/usr/local/share/powershell/Modules/MlModels/*' -Because $text
        $r['installed'] | Should -Be ($version -replace '^([^-]+)$', '$1-') -Because $text
    }

    It 'scores the ONNX example as it scores on this machine' {
        $here = Get-MLModel (Join-Path $Examples 'onnx-linear') | Invoke-MLModelPrediction -InputCsv (Join-Path $Examples 'scoring-input.csv') 3>$null
        $r['onnx'] | Should -Be (@($here | ForEach-Object { $_.variable.ToString('R') }) -join ';') -Because $text
    }

    It 'serves in the background, answering /ping' {
        $r['ping'] | Should -Be '200' -Because $text
        $r['version'] | Should -Be $version -Because $text
    }
}
