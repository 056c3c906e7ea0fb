# The module as users get it: the .nupkg that build.ps1 package makes, installed with PSResourceGet from a local folder
# repository into a temporary home, imported by name and used there; then the same tree packaged with the next
# prerelease suffix and installed over it with Update-PSResource. Nothing here reaches the network.
BeforeDiscovery {
    $hasPSResourceGet = [bool](Get-Module -ListAvailable Microsoft.PowerShell.PSResourceGet)
}

Describe 'The package' -Tag 'Package' -Skip:(-not $hasPSResourceGet) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'MlModels.psd1')
        $stated = $manifest.PrivateData.PSData['Prerelease']
        # The next prerelease: its number plus one (preview1 -> preview2), or a 1 after a suffix with none.
        $next = if ($stated -match '^(.*?)(\d+)$') { $Matches[1] + ([int] $Matches[2] + 1) } elseif ($stated) { "${stated}1" } else { 'preview1' }
        $version = if ($stated) { "$($manifest.ModuleVersion)-$stated" } else { $manifest.ModuleVersion }
        $nextVersion = "$($manifest.ModuleVersion)-$next"

        # Packaged once per run: the module build.ps1 built (beside it, in out/), and the same tree built again with
        # the next suffix in a folder of the test's own, so the module the other tests import is left as it is.
        $build = Join-Path $RepoRoot 'build.ps1'
        $nextOut = Join-Path $TestDrive 'next'
        foreach ($command in "& '$build' package -NoBuild -OutputPath '$(Split-Path $ModulePath)'",
            # The next prerelease leaves the native server out: compiling it again for a new version costs about 100 s,
            # and the upgrade checked here does not depend on it (the first package's is checked below).
            "& '$build' package -Prerelease $next -OutputPath '$nextOut' -NoNativeServer") {
            $log = Invoke-FreshPwsh $command
            if ($LASTEXITCODE -ne 0) { throw "$command failed:`n$($log -join "`n")" }
        }
        $package = Join-Path (Split-Path $ModulePath) "MlModels.$version.nupkg"
        $nextPackage = Join-Path $nextOut "MlModels.$nextVersion.nupkg"

        $repo = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'repo') -Force
        Copy-Item $package $repo
        # The user's home for the installs; removed after.
        $home_ = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "mlmodels-home-$([guid]::NewGuid().ToString('n'))")
        $userModules = Join-Path $home_ '.local/share/powershell/Modules'

        $python = '/usr/bin/python3'
        $hasPython = (Test-Path $python) -and ($(& $python -c 'import sklearn, pandas, cloudpickle' 2>$null; $LASTEXITCODE) -eq 0)
        $pyModels = Join-Path $TestDrive 'pym'
        if ($hasPython) { & $python (Join-Path $RepoRoot 'tests/fixtures/make_python_models.py') $pyModels | Out-Null }
        $csv = Join-Path $TestDrive 'x.csv'
        Set-Content $csv "x1,x2,x3`n1,2,3`n4,5,6"

        # What a user does in a fresh pwsh with nothing but the installed module: its lines say what each step gave.
        $checks = @'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
if ('{action}' -eq 'install') {
    Register-PSResourceRepository -Name MlModelsLocal -Uri '{repo}' -Trusted
    Install-PSResource MlModels -Repository MlModelsLocal -Prerelease -Scope CurrentUser
}
else {
    Update-PSResource MlModels -Repository MlModelsLocal -Prerelease -Scope CurrentUser
    $updated = (Get-InstalledPSResource MlModels | ForEach-Object { "$($_.Version)-$($_.Prerelease)" }) -join ','
    "updated=$updated"
    # PSResourceGet 1.2 compares the installed ModuleVersion alone, so it takes a newer prerelease of the same
    # ModuleVersion for up to date (PowerShell/PSResourceGet#1853); a reinstall takes the newest prerelease.
    if ($updated -ne '{want}') { Install-PSResource MlModels -Repository MlModelsLocal -Prerelease -Scope CurrentUser -Reinstall }
}
"psresourceget=$((Get-Module Microsoft.PowerShell.PSResourceGet).Version)"
"installed=" + ((Get-InstalledPSResource MlModels | ForEach-Object { "$($_.Version)-$($_.Prerelease)" }) -join ',')
Import-Module MlModels
$m = Get-Module MlModels
"imported=$($m.Version)-$($m.PrivateData.PSData.Prerelease)"
"base=$($m.ModuleBase)"
$onnx = Get-MLModel '{examples}/onnx-linear' | Invoke-MLModelPrediction -InputCsv '{csv}' 3>$null
"onnx=$(@($onnx).Count) rows, first $($onnx[0].variable)"
if ('{python}' -eq 'True') {
    $py = Get-MLModel '{pym}/sklearn-linear-pickle' | Invoke-MLModelPrediction -InputCsv '{pym}/input.csv' 3>$null
    $expected = Import-Csv '{pym}/expected/sklearn-linear-pickle.csv'
    $same = @(for ($i = 0; $i -lt $expected.Count; $i++) { [math]::Abs([double] $py[$i].prediction - [double] $expected[$i].prediction) -lt 1e-9 })
    "python=$(@($py).Count) rows, $(@($same | Where-Object { $_ }).Count) as expected"
}
$server = Get-MLModel '{examples}/onnx-linear' | Start-MLModelServer -Background -Port {port} 3>$null
try {
    "ping=$((Invoke-WebRequest "$($server.Url)/ping").StatusCode)"
    "version=$((Invoke-WebRequest "$($server.Url)/version").Content)"
}
finally { $server | Stop-MLModelServer }
$examples = Get-Help Invoke-MLModelPrediction -Examples
"help-examples=$(@($examples.Examples.Example).Count)"
"about=$((Get-Help about_MlModels | Out-String) -match 'MLflow Models in PowerShell')"
'@
        function Invoke-AsUser([string] $action, [string] $want) {
            $script = $checks.Replace('{action}', $action).Replace('{want}', $want).Replace('{repo}', $repo).Replace('{examples}', $Examples).
                Replace('{csv}', $csv).Replace('{python}', "$hasPython").Replace('{pym}', $pyModels).Replace('{port}', "$(Get-FreePort)")
            $saved = @{ HOME = $env:HOME; PSModulePath = $env:PSModulePath; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; XDG_CACHE_HOME = $env:XDG_CACHE_HOME }
            try {
                # The temporary home's module folder is the only user path; PowerShell's own modules (PSResourceGet) stay.
                $env:HOME = $home_
                $env:XDG_DATA_HOME = $null; $env:XDG_CONFIG_HOME = $null; $env:XDG_CACHE_HOME = $null
                $env:PSModulePath = @($userModules, (Join-Path $PSHOME 'Modules')) -join [IO.Path]::PathSeparator
                $env:MLMODELS_PYTHON = '/usr/bin/python3'
                $lines = Invoke-FreshPwsh $script
            }
            finally {
                foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
                Remove-Item Env:MLMODELS_PYTHON -ErrorAction Ignore
            }
            $text = ($lines | ForEach-Object { "$_" }) -join "`n"
            $values = @{ text = $text }
            foreach ($line in $lines) { if ("$line" -match '^([a-z-]+)=(.*)$') { $values[$Matches[1]] = $Matches[2] } }
            $values
        }
    }
    AfterAll {
        if ($home_ -and (Test-Path $home_)) { Remove-Item $home_ -Recurse -Force }
    }

    It 'is under its budget of 200 MB and holds the module folder as Publish-PSResource lays it out' {
        (Get-Item $package).Length | Should -BeLessThan 200MB
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try { $names = @($zip.Entries.FullName) } finally { $zip.Dispose() }
        foreach ($f in 'MlModels.nuspec', 'MlModels.psd1', 'MlModels.PowerShell.dll', 'MlModels.Format.ps1xml', 'LICENSE', 'THIRD-PARTY-NOTICES.md',
            'ThirdPartyNotices.OnnxRuntime.txt', 'en-US/about_MlModels.help.txt', 'en-US/MlModels.PowerShell.dll-Help.xml',
            'dependencies/MlModels.Core.dll', 'dependencies/MlModels.Server.dll', 'dependencies/MlModels.Server.runtimeconfig.json') {
            $names | Should -Contain $f
        }
    }

    It 'holds the native ONNX Runtime of <Rid>, where the loader looks for it' -ForEach @(
        @{ Rid = 'linux-x64'; Files = 'libonnxruntime.so', 'libonnxruntime_providers_shared.so' }
        @{ Rid = 'linux-arm64'; Files = 'libonnxruntime.so', 'libonnxruntime_providers_shared.so' }
        @{ Rid = 'osx-arm64'; Files = @('libonnxruntime.dylib') }
        @{ Rid = 'win-x64'; Files = 'onnxruntime.dll', 'onnxruntime_providers_shared.dll' }
        @{ Rid = 'win-arm64'; Files = 'onnxruntime.dll', 'onnxruntime_providers_shared.dll' }
    ) {
        $unpacked = Join-Path $TestDrive 'unpacked'
        if (-not (Test-Path $unpacked)) { Expand-Archive -LiteralPath $package -DestinationPath $unpacked }
        $deps = Join-Path $unpacked 'dependencies'
        foreach ($f in $Files) { Join-Path $deps "runtimes/$Rid/native/$f" | Should -Exist }
        # The two loaders, from the package's own assemblies: Core's (by absolute path, before ONNX Runtime's managed
        # code asks) and the module load context's (a DllImport by name), each given the runtime identifier.
        $probe = [System.Runtime.Loader.AssemblyLoadContext]::new("probe-$Rid", $true)
        try {
            $core = $probe.LoadFromAssemblyPath((Join-Path $deps 'MlModels.Core.dll'))
            $loader = $core.GetType('MlModels.Core.Scoring.Onnx.OnnxRuntimeLoader', $true)
            $path = $loader.GetMethod('LibraryPath').Invoke($null, [object[]] @([string] $deps, [string] $Rid))
            $path | Should -Be (Join-Path $deps "runtimes/$Rid/native/$($Files[0])")
            $cmdlets = $probe.LoadFromAssemblyPath((Join-Path $unpacked 'MlModels.PowerShell.dll'))
            $find = $cmdlets.GetType('MlModels.PowerShell.Internal.NativeLibraries', $true).GetMethod('Find', [Reflection.BindingFlags] 'Static, Public, NonPublic')
            $find.Invoke($null, [object[]] @([string] $deps, 'onnxruntime', [string] $Rid)) | Should -Be $path
        }
        finally { $probe.Unload() }
    }

    It 'carries the native server for linux-x64 images, an executable that starts and answers' -Skip:(-not ($IsLinux -and
        [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64')) {
        $unpacked = Join-Path $TestDrive 'unpacked'
        if (-not (Test-Path $unpacked)) { Expand-Archive -LiteralPath $package -DestinationPath $unpacked }
        $exe = Join-Path $unpacked 'dependencies/native-server/linux-x64/MlModels.Server'
        $exe | Should -Exist
        # A zip keeps no Unix mode that Expand-Archive restores; the image build sets it (COPY keeps the module's own).
        & chmod +x $exe
        # Its own healthcheck command against a port nothing listens on: it runs (no .NET runtime or JIT needed) and says why it failed.
        $said = (& $exe healthcheck 1 2>&1) -join "`n"
        $LASTEXITCODE | Should -Be 1
        $said | Should -Match '^healthcheck: .*127\.0\.0\.1:1'
    }

    It 'resolves this machine''s natives by its runtime identifier' {
        $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
        $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'MlModels.Core' } | Select-Object -First 1
        if (-not $loaded) { Get-MLModel (Join-Path $Examples 'onnx-linear') | Out-Null; $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'MlModels.Core' } | Select-Object -First 1 }
        $loaded.GetType('MlModels.Core.Scoring.Onnx.OnnxRuntimeLoader').GetProperty('RuntimeId').GetValue($null) | Should -Be $rid
    }

    Context '<Name>' -ForEach @(
        @{ Name = 'Install-PSResource from a local repository'; Action = 'install'; Expected = 'version' }
        @{ Name = 'Update-PSResource -Prerelease to the next prerelease'; Action = 'update'; Expected = 'nextVersion' }
    ) {
        BeforeAll {
            if ($Action -eq 'update') { Copy-Item $nextPackage $repo }
            $want = Get-Variable $Expected -ValueOnly
            $r = Invoke-AsUser $Action $want
        }

        if ($Action -eq 'update') {
            It 'moves to it with Update-PSResource alone' {
                if ($r['updated'] -ne $want) {
                    Set-ItResult -Skipped -Because "PSResourceGet $($r['psresourceget']) takes a newer prerelease of the same ModuleVersion for up to date (PowerShell/PSResourceGet#1853); Install-PSResource -Prerelease -Reinstall moved it"
                }
                $r['updated'] | Should -Be $want
            }
        }

        It 'installs the version into the temporary home and imports it by name' {
            $r['installed'] | Should -Be $want -Because $r.text
            $r['imported'] | Should -Be $want -Because $r.text
            $r['base'] | Should -BeLike "$userModules*" -Because $r.text
        }

        It 'scores the ONNX example' {
            $r['onnx'] | Should -Match '^2 rows, first \S+' -Because $r.text
        }

        It 'scores an sklearn model through the Python worker' {
            if (-not $hasPython) { Set-ItResult -Skipped -Because "Debian's python3-sklearn, python3-pandas and python3-cloudpickle are missing" }
            $r['python'] | Should -Match '^(\d+) rows, \1 as expected$' -Because $r.text
        }

        It 'serves in the background, answering /ping and /version with the version in full' {
            $r['ping'] | Should -Be '200' -Because $r.text
            $r['version'] | Should -Be $want -Because $r.text
        }

        It 'shows the installed help and the about topic' {
            [int] $r['help-examples'] | Should -BeGreaterOrEqual 1 -Because $r.text
            $r['about'] | Should -Be 'True' -Because $r.text
        }
    }
}
