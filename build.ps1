#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates the MlModels module.
.DESCRIPTION
    build : compiles and lays out the importable module at out/MlModels (help, formats, isolated dependencies).
    test  : build, then xUnit (core) and Pester (cmdlets, in a fresh pwsh); the last line is "N passed, N failed, N skipped",
            after one line per reason anything was skipped. -Category narrows the run; -Services starts what CI starts.
    coverage: the xUnit projects on .NET 10 with coverlet (line and branch), summarised by ReportGenerator in
              out/coverage/report (Summary.txt printed; index.html beside it). A number to read, not a gate.
    mutate  : Stryker.NET over one Core folder (-Folder Format|Scoring|...) against the Fast xUnit tests; never in CI.
    package: build, then the .nupkg Publish-PSResource makes for a gallery (the module folder as out/MlModels holds it),
             written to out/ (or -OutputPath); prints its size and what each platform's native libraries cost in it.
    publish: package, then Publish-PSResource of that .nupkg to -Repository (a gallery or a NuGet v3 feed), with -ApiKey.
    image-tools: package, then the image for pipelines with the Docker CLI: pwsh from the PowerShell tool package restored
             from NuGet and the module installed from that .nupkg, on -BaseImage (an ASP.NET Core runtime image); tagged
             -Tag (default mlmodels-tools:<version>). Nothing is downloaded inside the build; prints its build time and size.
    demo  : build, then imports the module from out/ and works through the models in examples/.
    format: the mechanical formatting pass over the solution: whitespace, usings, the enforced style rules and Roslynator's
            wrapping of lines over the limit (RCS0056); changes layout only. Lists the lines still too long.
    lint  : what CI checks before the tests: `dotnet format --verify-no-changes` for the same rules, and no line under
            src/ over the limit of .editorconfig (roslynator_max_line_length), each offender as file:line.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'coverage', 'mutate', 'demo', 'format', 'lint', 'clean', 'package', 'publish', 'image-tools')]
    [string] $Task = 'build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # test: only the tests of these categories (xUnit Trait "Category", Pester -Tag): Fast, Python, Docker, Cloud, Node, Gpu,
    # Package (the .nupkg installed with PSResourceGet).
    [ValidateSet('Fast', 'Python', 'Docker', 'Cloud', 'Node', 'Gpu', 'Package')]
    [string[]] $Category,
    # test: start the services .ci/run starts (Docker engine, registry, moto, Azurite; needs root) and stop them after.
    [switch] $Services,
    # mutate: the folder of src/MlModels.Core to mutate, and Stryker's --mutate globs within it to narrow the run.
    [string] $Folder = 'Format',
    [string[]] $Mutate,
    # build, package: another prerelease suffix than the manifest's (the install test's next prerelease).
    [string] $Prerelease,
    # build, package: the folder to build and package in instead of out/ (the module goes to <it>/MlModels).
    [string] $OutputPath,
    # package: the .nupkg of the module folder already built, without building again.
    [switch] $NoBuild,
    # build, package: leave out the native (ahead-of-time compiled) server for images; they then carry the
    # framework-dependent one. Saves the native compile (about 100 s) where images are not the point.
    [switch] $NoNativeServer,
    # publish: the PSResource repository to publish to (Get-PSResourceRepository), and its API key if it needs one.
    [string] $Repository,
    [string] $ApiKey,
    # image-tools: the base, an image with the ASP.NET Core runtime of the .NET that pwsh needs (PowerShell 7.6: .NET 10),
    # a shell and `dotnet` on PATH; and the tag of the image.
    [string] $BaseImage = 'mcr.microsoft.com/dotnet/aspnet:10.0',
    [string] $Tag
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = $PSScriptRoot
$out = if ($OutputPath) { [IO.Path]::GetFullPath($OutputPath) } else { Join-Path $root 'out' }
$moduleOut = Join-Path $out 'MlModels'
# The native libraries packaged: every desktop platform ONNX Runtime 1.31's package ships and PowerShell 7.4 runs on.
$script:NativeRids = 'linux-x64', 'linux-arm64', 'osx-arm64', 'win-x64', 'win-arm64'
# The package's budget (bytes), shared with what later work adds; past it, something ships as a module of its own.
$script:PackageBudget = 200MB

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

# The version in full that MlModels.psd1 states (ModuleVersion, -Prerelease when there is one), or with -Prerelease's suffix.
function Get-ModuleVersion([switch] $Stated) {
    $manifest = Import-PowerShellDataFile (Join-Path $root 'MlModels.psd1')
    $suffix = if ($Prerelease -and -not $Stated) { $Prerelease } else { $manifest.PrivateData.PSData['Prerelease'] }
    if ($suffix) { "$($manifest.ModuleVersion)-$suffix" } else { $manifest.ModuleVersion }
}

# The body of CHANGELOG.md's section for a version (Keep a Changelog: "## [version] - date"), trimmed.
function Get-ChangelogSection([string] $version) {
    $text = Get-Content (Join-Path $root 'CHANGELOG.md') -Raw
    $m = [regex]::Match($text, "(?ms)^## \[$([regex]::Escape($version))\][^\n]*\n(.*?)(?=^## |\z)")
    if (-not $m.Success) { throw "CHANGELOG.md has no section '## [$version]'; add one for the version MlModels.psd1 states." }
    $m.Groups[1].Value.Trim()
}

function Invoke-Build {
    if ($Prerelease -and $Prerelease -notmatch '^[A-Za-z][0-9A-Za-z]*$') { throw "-Prerelease '$Prerelease': letters, then letters or digits (the gallery's rule)." }
    $version = Get-ModuleVersion
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
    foreach ($rid in $NativeRids) {
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
    Invoke-Native 'dotnet publish (server)' { dotnet publish (Join-Path $root 'src/MlModels.Server/MlModels.Server.csproj') -c $Configuration -f net8.0 -o $serverPublish -p:Version=$version --nologo -v quiet }
    foreach ($file in Get-ChildItem $serverPublish -File | Where-Object { $_.Extension -in '.dll', '.json' -and $_.Name -notlike '*staticwebassets*' }) {
        $existing = Join-Path $deps $file.Name
        if ((Test-Path $existing) -and (Get-FileHash $existing).Hash -ne (Get-FileHash $file.FullName).Hash) {
            throw "The server and the module disagree on $($file.Name); both must build against the same versions."
        }
        Copy-Item $file.FullName $deps -Force
    }

    if (-not $NoNativeServer) { Build-NativeServer $version $deps }

    # The manifest is the source of the version, which the publish steps above stamped into every assembly (-p:Version);
    # Module.Tests.ps1 checks the two agree. The built copy gets the release notes of CHANGELOG.md's section for the
    # version the manifest states, and -Prerelease's suffix where one was given.
    $psd1 = Get-Content (Join-Path $root 'MlModels.psd1') -Raw
    $notes = (Get-ChangelogSection (Get-ModuleVersion -Stated)) -replace "'", "''"
    $psd1 = [regex]::Replace($psd1, "ReleaseNotes(\s*)=(\s*)'(?:[^']|'')*'", { param($m) "ReleaseNotes$($m.Groups[1].Value)=$($m.Groups[2].Value)'$notes'" })
    if ($Prerelease) { $psd1 = [regex]::Replace($psd1, "Prerelease(\s*)=(\s*)'[^']*'", { param($m) "Prerelease$($m.Groups[1].Value)=$($m.Groups[2].Value)'$Prerelease'" }) }
    Set-Content -Path (Join-Path $moduleOut 'MlModels.psd1') -Value $psd1 -NoNewline
    # The licence and the third-party notices travel with the module (THIRD-PARTY-NOTICES.md names every bundled file).
    Copy-Item (Join-Path $root 'LICENSE'), (Join-Path $root 'THIRD-PARTY-NOTICES.md') $moduleOut
    # ONNX Runtime's notices for what its native libraries compile in, as its package carries them.
    $ortNotices = Join-Path (Get-NuGetRoot) "microsoft.ml.onnxruntime/$(Get-PackageVersion 'Microsoft.ML.OnnxRuntime')/ThirdPartyNotices.txt"
    Copy-Item $ortNotices (Join-Path $moduleOut 'ThirdPartyNotices.OnnxRuntime.txt')

    # Help: docs/cmdlets/*.md (platyPS layout) plus the cmdlets' own metadata, turned into MAML in a fresh pwsh.
    $helpDir = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US') -Force
    Copy-Item (Join-Path $root 'docs/about_MlModels.help.txt') $helpDir
    Invoke-Native 'help generation' {
        Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'build/New-MamlHelp.ps1') -ModulePath $moduleOut -DocsPath (Join-Path $root 'docs/cmdlets') -OutFile (Join-Path $helpDir 'MlModels.PowerShell.dll-Help.xml')
    }
    Write-Host "Module $version built at $moduleOut"
}

# The scoring server compiled ahead of time (Native AOT) for linux-x64 images, at dependencies/native-server/linux-x64: it
# starts without JIT and needs no .NET runtime in the image (docs/performance.md has the numbers). It can only be made
# on linux-x64 with a C toolchain (clang, or gcc); elsewhere the build says so and images carry the framework-dependent
# server. Incremental: the native compile reruns only when the server or what it uses changed.
function Build-NativeServer([string] $version, [string] $deps) {
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
    $linker = if (Get-Command clang -ErrorAction Ignore) { $null } elseif (Get-Command gcc -ErrorAction Ignore) { 'gcc' } else { 'none' }
    if (-not $IsLinux -or $arch -ne 'X64' -or $linker -eq 'none') {
        Write-Warning ("No native server: it is made on linux-x64 with clang or gcc (this is $arch" + $(if ($IsLinux) { ' Linux' } else { '' }) +
            $(if ($linker -eq 'none') { ', with neither' } else { '' }) + '). Images will carry the framework-dependent server.')
        return
    }
    $publish = Join-Path $out 'publish-server-native'
    $linkerArg = @(if ($linker) { "-p:CppCompilerAndLinker=$linker" })
    Invoke-Native 'dotnet publish (native server)' {
        dotnet publish (Join-Path $root 'src/MlModels.Server/MlModels.Server.csproj') -c $Configuration -f net10.0 -r linux-x64 -p:PublishAot=true `
            @linkerArg -o $publish -p:Version=$version --nologo -v quiet
    }
    $exe = Join-Path $publish 'MlModels.Server'
    # The oldest glibc the images' bases need is ServerFiles.NativeGlibc, which the docs state; a newer build machine must not raise it.
    $stated = [version](Select-String -Path (Join-Path $root 'src/MlModels.Deploy/Docker/ServerFiles.cs') -Pattern 'NativeGlibc = "([0-9.]+)"').Matches[0].Groups[1].Value
    if (Get-Command objdump -ErrorAction Ignore) {
        $needed = objdump -T $exe | Select-String -Pattern 'GLIBC_([0-9.]+)' -AllMatches | ForEach-Object { $_.Matches } |
            ForEach-Object { [version]$_.Groups[1].Value } | Sort-Object -Descending | Select-Object -First 1
        if ($needed -gt $stated) { throw "The native server needs glibc $needed, newer than the $stated ServerFiles.NativeGlibc states; build it on an older glibc." }
    }
    $dest = New-Item -ItemType Directory -Path (Join-Path $deps 'native-server/linux-x64') -Force
    Copy-Item $exe $dest
    Write-Host ('Native server for linux-x64: {0:N1} MB' -f ((Get-Item $exe).Length / 1MB))
}

# The .nupkg of out/MlModels as Publish-PSResource makes it for a gallery, through a folder repository of its own
# (registered under a name of this run and unregistered after), moved to out/; its path in $script:Nupkg.
function Invoke-Package {
    if (-not $NoBuild) { Invoke-Build }
    if (-not (Test-Path (Join-Path $moduleOut 'MlModels.psd1'))) { throw "No module at $moduleOut; run build.ps1 build first." }
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    $manifest = Import-PowerShellDataFile (Join-Path $moduleOut 'MlModels.psd1')
    $version = if ($manifest.PrivateData.PSData['Prerelease']) { "$($manifest.ModuleVersion)-$($manifest.PrivateData.PSData.Prerelease)" } else { $manifest.ModuleVersion }
    $nupkg = Join-Path $out "MlModels.$version.nupkg"
    $staging = Join-Path $out "package-$PID"
    $name = "MlModels-build-$PID"
    New-Item -ItemType Directory -Path $staging -Force | Out-Null
    Register-PSResourceRepository -Name $name -Uri $staging -Trusted
    try {
        # The module has no PowerShell module dependencies to look up; the check would only reach for a gallery.
        Publish-PSResource -Path $moduleOut -Repository $name -SkipDependenciesCheck
        Move-Item (Join-Path $staging "MlModels.$version.nupkg") $nupkg -Force
    }
    finally {
        Unregister-PSResourceRepository -Name $name
        Remove-Item $staging -Recurse -Force -ErrorAction Ignore
    }
    Write-PackageSize $nupkg
    $script:Nupkg = $nupkg
}

# The package's size, and each platform's native libraries in it (compressed, as they weigh in the .nupkg).
function Write-PackageSize([string] $nupkg) {
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
    try {
        $size = (Get-Item $nupkg).Length
        Write-Host ('{0}: {1:N1} MB ({2:N1} MB unpacked), budget {3:N0} MB' -f (Split-Path $nupkg -Leaf), ($size / 1MB),
            (($zip.Entries | Measure-Object Length -Sum).Sum / 1MB), ($PackageBudget / 1MB))
        $natives = 0
        foreach ($rid in $NativeRids) { $natives += Write-PackagePart $zip ('{0,-12} natives' -f $rid) "dependencies/runtimes/$rid/native/*" }
        # The native server for images, where the build made one (-NoNativeServer, or no toolchain, leaves it out).
        $server = Write-PackagePart $zip 'native server (image)' 'dependencies/native-server/*'
        if ($server -eq 0) { Write-Host '  no native server (images will carry the framework-dependent one)' }
        $natives += $server
        Write-Host ('  {0,-12}         {1,6:N1} MB' -f 'the rest', (($size - $natives) / 1MB))
        if ($size -gt $PackageBudget) { throw "The package is $([math]::Round($size / 1MB)) MB, over its budget of $($PackageBudget / 1MB) MB." }
    }
    finally { $zip.Dispose() }
}

# One part of the package (the entries under a path pattern) written as a line of its packed and unpacked size, where
# it has any; returns its packed bytes (0 for none).
function Write-PackagePart($zip, [string] $label, [string] $pattern) {
    [long] $packed = 0; [long] $unpacked = 0
    foreach ($e in $zip.Entries) { if ($e.FullName -like $pattern) { $packed += $e.CompressedLength; $unpacked += $e.Length } }
    if ($unpacked -gt 0) { Write-Host ('  {0,-20} {1,6:N1} MB ({2:N1} MB unpacked)' -f $label, ($packed / 1MB), ($unpacked / 1MB)) }
    $packed
}

function Invoke-Publish {
    if (-not $Repository) { throw 'publish needs -Repository: a name Get-PSResourceRepository lists (Register-PSResourceRepository adds one).' }
    Invoke-Package
    $nupkg = $script:Nupkg
    $publish = @{ NupkgPath = $nupkg; Repository = $Repository }
    if ($ApiKey) { $publish.ApiKey = $ApiKey }
    Publish-PSResource @publish
    Write-Host "Published $(Split-Path $nupkg -Leaf) to $Repository"
}

# The image for pipelines: pwsh and the module as a user installs it, on an ASP.NET Core runtime image (the scoring
# server needs it; pwsh, framework-dependent, runs on its .NET). Everything is copied in from this machine: no network
# inside the build, so it builds where nothing can be pulled but the base.
function Invoke-ImageTools {
    if (-not (Get-Command docker -ErrorAction Ignore)) { throw 'image-tools needs the Docker CLI (docker) and an engine it reaches (DOCKER_HOST or its default).' }
    Invoke-Package
    $manifest = Import-PowerShellDataFile (Join-Path $moduleOut 'MlModels.psd1')
    $version = if ($manifest.PrivateData.PSData['Prerelease']) { "$($manifest.ModuleVersion)-$($manifest.PrivateData.PSData.Prerelease)" } else { $manifest.ModuleVersion }
    $tagName = if ($Tag) { $Tag } else { "mlmodels-tools:$version" }

    # pwsh: the PowerShell tool package .config/dotnet-tools.json pins, as `dotnet tool restore` left it in the NuGet
    # folder; its unix/ folder is the framework-dependent pwsh.dll with PowerShell's own modules.
    $pwshVersion = (Get-Content (Join-Path $root '.config/dotnet-tools.json') -Raw | ConvertFrom-Json).tools.powershell.version
    $pwshHome = @(Get-ChildItem (Join-Path (Get-NuGetRoot) "powershell/$pwshVersion/tools/*/any/unix") -Directory -ErrorAction Ignore)[0]
    if (-not $pwshHome -or -not (Test-Path (Join-Path $pwshHome 'pwsh.dll'))) { throw "The PowerShell $pwshVersion tool package is not restored; run: dotnet tool restore" }

    $ctx = Join-Path $out "image-tools-$PID"
    if (Test-Path $ctx) { Remove-Item $ctx -Recurse -Force }
    New-Item -ItemType Directory -Path $ctx | Out-Null
    try {
        $pwshDest = Join-Path $ctx 'powershell'
        Copy-Item $pwshHome.FullName $pwshDest -Recurse
        # Native helpers of platforms the image never runs on (Windows, macOS, Android): 8 MB of the 61.
        Get-ChildItem (Join-Path $pwshDest 'runtimes') -Directory | Where-Object Name -Match '^(win|osx|maccatalyst|android)' | Remove-Item -Recurse -Force

        # The module, installed from the package into the all-users module path by PSResourceGet (with its
        # PSGetModuleInfo.xml, so Get-InstalledPSResource knows it), as Install-PSResource -Scope AllUsers would.
        $modules = New-Item -ItemType Directory -Path (Join-Path $ctx 'Modules')
        $feed = New-Item -ItemType Directory -Path (Join-Path $ctx 'feed')
        Copy-Item $script:Nupkg $feed
        $name = "MlModels-image-$PID"
        Register-PSResourceRepository -Name $name -Uri $feed.FullName -Trusted
        try { Save-PSResource -Name MlModels -Version $version -Prerelease -Repository $name -Path $modules.FullName -IncludeXml -SkipDependencyCheck -TrustRepository }
        finally { Unregister-PSResourceRepository -Name $name }
        Remove-Item $feed -Recurse -Force
        # ONNX Runtime for Windows and macOS never loads in a Linux image: 76 MB of the package's 147 unpacked.
        # Both Linux platforms stay, so an arm64 base works too.
        Get-ChildItem (Join-Path $modules 'MlModels/*/dependencies/runtimes/*') -Directory | Where-Object Name -NotLike 'linux-*' | Remove-Item -Recurse -Force

        # `pwsh` for every user and shell; dotnet from PATH runs pwsh.dll on any architecture the base has.
        Set-Content (Join-Path $ctx 'pwsh') "#!/bin/sh`nexec dotnet /opt/microsoft/powershell/7/pwsh.dll `"`$@`"`n" -NoNewline
        # COPY keeps the modes of the context: readable by all, so a container job's own user runs it.
        if (-not $IsWindows) { Invoke-Native 'chmod' { chmod -R 'a+rX,go-w' $ctx; chmod 0755 (Join-Path $ctx 'pwsh') } }

        # Azure Pipelines container jobs: no ENTRYPOINT, root as the user (the agent adds its own user with groupadd
        # and useradd), bash and glibc for the Node.js the agent mounts; the base brings those. The build checks that
        # pwsh runs on the base's .NET and imports the module, then drops what that left in root's home.
        $dockerfile = @"
FROM $BaseImage
COPY powershell /opt/microsoft/powershell/7
COPY Modules /usr/local/share/powershell/Modules
COPY pwsh /usr/local/bin/pwsh
ENV POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
RUN pwsh -NoLogo -NoProfile -NonInteractive -Command 'Import-Module MlModels -ErrorAction Stop; "pwsh `$(`$PSVersionTable.PSVersion), MlModels `$((Get-Module MlModels).Version) in `$((Get-Module MlModels).ModuleBase)"' \
    && rm -rf /root/.cache/powershell /root/.local/share/powershell \
    && { command -v bash >/dev/null || echo 'warning: the base has no bash, which Azure Pipelines container jobs need'; }
LABEL org.opencontainers.image.title="mlmodels-tools" org.opencontainers.image.version="$version" \
    org.opencontainers.image.description="pwsh $pwshVersion and the MlModels module $version" \
    mlmodels.pwsh.version="$pwshVersion" mlmodels.base="$BaseImage"
CMD ["pwsh"]
"@
        Set-Content (Join-Path $ctx 'Dockerfile') $dockerfile
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Invoke-Native 'docker build' { docker build -t $tagName $ctx }
        $watch.Stop()
        $size = [long] (docker image inspect $tagName --format '{{.Size}}')
        # In MB of 10^6 bytes, as `docker images` counts them.
        Write-Host ('Image {0} built in {1:N0} s on {2}: {3:N0} MB (pwsh {4}, MlModels {5})' -f $tagName, $watch.Elapsed.TotalSeconds, $BaseImage, ($size / 1e6), $pwshVersion, $version)
    }
    finally { Remove-Item $ctx -Recurse -Force -ErrorAction Ignore }
}

function Get-NuGetRoot {
    if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
}

# A package's version as Directory.Packages.props pins it (<PackageVersion Include=... Version=...>).
function Get-PackageVersion([string] $id) {
    $props = [xml](Get-Content (Join-Path $root 'Directory.Packages.props') -Raw)
    $v = @($props.Project.ItemGroup.PackageVersion | Where-Object Include -eq $id | ForEach-Object Version)[0]
    if (-not $v) { throw "Directory.Packages.props pins no version of $id." }
    $v
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
    $nuget = Get-NuGetRoot
    [pscustomobject]@{
        Pester    = Join-Path $nuget "pester/$(Get-PinnedVersion PesterVersion)/tools/Pester.psd1"
        OtherYaml = Join-Path $nuget "yamldotnet/$(Get-PinnedVersion OtherYamlDotNetVersion)/lib/netstandard2.1/YamlDotNet.dll"
    }
}

# What enables the tests of each category when they are skipped (Pester gives no reason of its own; xUnit's say theirs).
$script:CategoryNeeds = [ordered]@{
    Docker = 'no Docker engine with the local base images; start one with: eval "$(sudo bash .ci/services/dockerd.sh start)", or run build.ps1 test -Services as root'
    Cloud  = 'a local cloud stand-in is not running (moto, Azurite, the registry); start them with build.ps1 test -Services as root (.ci/services/*.sh)'
    Python = "Debian's Python libraries are missing; apt-get install python3-sklearn python3-pandas python3-cloudpickle python3-onnx python3-venv python3-yaml python3-xgboost python3-torch python3-statsmodels"
    Node   = 'Node.js is missing; apt-get install nodejs npm'
    Gpu    = 'no GPU on this machine'
    Package = 'PSResourceGet (shipped with PowerShell 7.4+) is missing'
}

# Starts .ci/services/*.sh (their stdout is `export NAME=value` lines, set here); returns the names to stop.
function Start-TestServices {
    $started = @()
    $isRoot = $IsLinux -and ((& id -u) -eq '0')
    foreach ($script in Get-ChildItem (Join-Path $root '.ci/services') -Filter '*.sh' | Sort-Object Name) {
        if (-not $isRoot) { Write-Warning "Not starting $($script.Name): the services need root (a Docker engine, bridges, /var/cache); run as root or start them yourself."; continue }
        $lines = & bash $script.FullName start
        if ($LASTEXITCODE -ne 0) { Write-Warning "Service $($script.Name) did not start (exit code $LASTEXITCODE); its tests will be skipped."; continue }
        foreach ($line in $lines) {
            if ($line -match '^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$') { [Environment]::SetEnvironmentVariable($Matches[1], $Matches[2]) }
        }
        $started += $script.FullName
    }
    $started
}

# One xUnit run's results from its TRX file: counts by outcome and the reasons of skipped tests.
function Read-Trx([string] $path) {
    $trx = [xml](Get-Content $path -Raw)
    $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $results = @(Select-Xml -Xml $trx -XPath '//t:UnitTestResult' -Namespace $ns | ForEach-Object Node)
    [pscustomobject]@{
        Outcome = $trx.TestRun.ResultSummary.outcome
        Passed  = @($results | Where-Object outcome -eq 'Passed').Count
        Failed  = @($results | Where-Object outcome -in 'Failed', 'Error', 'Timeout', 'Aborted').Count
        Skipped = @($results | Where-Object outcome -eq 'NotExecuted' | ForEach-Object {
                $m = $_.Output.ErrorInfo.Message
                if ($m) { $m.Trim() } else { '(no reason given)' }
            })
        Total   = $results.Count
    }
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $out 'test-results'
    New-Item -ItemType Directory -Path $results -Force | Out-Null
    Remove-Item (Join-Path $results '*') -Force -ErrorAction Ignore
    $started = if ($Services) { Start-TestServices } else { @() }
    try { Invoke-TestRuns $results }
    finally {
        foreach ($s in $started) { & bash $s stop *> $null }
    }
}

function Invoke-TestRuns([string] $results) {
    # xUnit: the core library, the server and the deployment targets on .NET 10; then Core and the server again on
    # .NET 8, the runtime of PowerShell 7.4 (the lowest the manifest supports). That run is self-contained: the SDK
    # restores the .NET 8 and ASP.NET Core 8 runtime packs from NuGet, so no .NET 8 install is needed.
    $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    $runs = @(
        @{ Project = 'MlModels.Core.Tests'; Name = 'MlModels.Core.Tests'; Args = @('-f', 'net10.0'); Filter = $null }
        @{ Project = 'MlModels.Server.Tests'; Name = 'MlModels.Server.Tests'; Args = @('-f', 'net10.0'); Filter = $null }
        @{ Project = 'MlModels.Deploy.Tests'; Name = 'MlModels.Deploy.Tests'; Args = @(); Filter = $null }
        @{ Project = 'MlModels.Core.Tests'; Name = 'MlModels.Core.Tests.net8'; Args = @('-f', 'net8.0', '-r', $rid, '-p:SelfContained=true'); Filter = $null }
        # The Python worker is its own process, the same on either runtime: its tests run once, on .NET 10.
        @{ Project = 'MlModels.Server.Tests'; Name = 'MlModels.Server.Tests.net8'; Args = @('-f', 'net8.0', '-r', $rid, '-p:SelfContained=true'); Filter = 'FullyQualifiedName!~PythonServerTests' }
    )
    $categoryFilter = if ($Category) { '(' + (($Category | ForEach-Object { "Category=$_" }) -join '|') + ')' } else { $null }
    $xPassed = 0; $xFailed = 0; $xSkipped = @(); $broken = @()
    foreach ($run in $runs) {
        $project = $run.Name
        $filter = @($run.Filter, $categoryFilter | Where-Object { $_ }) -join '&'
        $filterArgs = if ($filter) { @('--filter', $filter) } else { @() }
        & dotnet test (Join-Path $root "tests/$($run.Project)/$($run.Project).csproj") -c $Configuration --nologo @($run.Args) @filterArgs `
            --logger "trx;LogFileName=$project.trx" --results-directory $results
        $exit = $LASTEXITCODE
        $trx = Join-Path $results "$project.trx"
        if (-not (Test-Path $trx)) { $broken += "$project produced no results (dotnet test exit code $exit)"; continue }
        $r = Read-Trx $trx
        $xPassed += $r.Passed; $xFailed += $r.Failed; $xSkipped += $r.Skipped
        # A crashed or aborted testhost can leave a TRX whose counted tests all passed: the run's own outcome and exit code decide.
        if ($r.Total -eq 0 -and -not $Category) { $broken += "$project ran no tests" }
        if ($r.Outcome -notin 'Completed', 'Failed' -or ($r.Outcome -eq 'Failed' -and $r.Failed -eq 0)) { $broken += "$project ended '$($r.Outcome)' with $($r.Failed) failed tests: the test host did not finish" }
        if ($exit -ne 0 -and $r.Failed -eq 0) { $broken += "$project`: dotnet test exited $exit with no failed test: the test host crashed or the run was aborted" }
    }

    # Pester, in a fresh pwsh against the built module.
    $tools = Get-PesterPath
    $summary = Join-Path $results 'pester.json'
    $env:MLMODELS_MODULE = $moduleOut
    $env:MLMODELS_OTHER_YAMLDOTNET = $tools.OtherYaml
    $env:MLMODELS_REPO = $root
    $pesterArgs = @('-PesterPath', $tools.Pester, '-TestPath', (Join-Path $root 'tests/MlModels.PowerShell.Tests'), '-SummaryPath', $summary)
    if ($Category) { $pesterArgs += @('-Tag', ($Category -join ',')) }
    Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'build/Invoke-PesterTests.ps1') @pesterArgs
    $pPassed = 0; $pFailed = 0; $pSkipped = @()
    if (Test-Path $summary) {
        $p = Get-Content $summary -Raw | ConvertFrom-Json
        $pPassed = $p.Passed; $pFailed = $p.Failed
        $pSkipped = @($p.SkippedTests | ForEach-Object {
                $needs = @($_.Categories | Where-Object { $_ -ne 'Fast' })
                if ($_.Reason) { $_.Reason -replace '^.*?because\s*', '' }
                elseif ($needs.Count -eq 0) { "(no reason given: $($_.Name))" }
                else { ($needs | ForEach-Object { if ($CategoryNeeds.Contains($_)) { "$_`: $($CategoryNeeds[$_])" } else { $_ } }) -join '; ' }
            })
        if ($pSkipped.Count -ne $p.Skipped) { $broken += "Pester reported $($p.Skipped) skipped tests but listed $($pSkipped.Count)" }
    }
    else { $broken += 'Pester produced no results' }

    Write-Host "xUnit: $xPassed passed, $xFailed failed, $($xSkipped.Count) skipped; Pester: $pPassed passed, $pFailed failed, $($pSkipped.Count) skipped"
    foreach ($b in $broken) { Write-Host "run failed: $b" }
    # One line per reason, xUnit's and Pester's side by side, then the plain count line CI reads.
    $reasons = [ordered]@{}
    foreach ($m in $xSkipped) { if (-not $reasons.Contains($m)) { $reasons[$m] = @(0, 0) }; $reasons[$m][0]++ }
    foreach ($m in $pSkipped) { if (-not $reasons.Contains($m)) { $reasons[$m] = @(0, 0) }; $reasons[$m][1]++ }
    foreach ($k in $reasons.Keys) {
        $n = $reasons[$k]
        $parts = @(if ($n[0]) { "$($n[0]) (xUnit)" }) + @(if ($n[1]) { "$($n[1]) (Pester)" })
        Write-Host "skipped $($parts -join ' + '): $k"
    }
    $failed = $xFailed + $pFailed + $broken.Count
    Write-Host "$($xPassed + $pPassed) passed, $failed failed, $($xSkipped.Count + $pSkipped.Count) skipped"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Coverage {
    $dir = Join-Path $out 'coverage'
    if (Test-Path $dir) { Remove-Item $dir -Recurse -Force }
    $categoryFilter = if ($Category) { @('--filter', '(' + (($Category | ForEach-Object { "Category=$_" }) -join '|') + ')') } else { @() }
    foreach ($project in 'MlModels.Core.Tests', 'MlModels.Server.Tests', 'MlModels.Deploy.Tests') {
        $fw = if ($project -eq 'MlModels.Deploy.Tests') { @() } else { @('-f', 'net10.0') }
        # Only the project's own assemblies are measured: tests, fakes and third-party code are left out.
        & dotnet test (Join-Path $root "tests/$project/$project.csproj") -c $Configuration --nologo @fw @categoryFilter --collect 'XPlat Code Coverage' `
            --results-directory (Join-Path $dir $project) -- 'DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.Include=[MlModels.Core]*,[MlModels.Deploy]*,[MlModels.Server]*' `
            'DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.ExcludeByAttribute=GeneratedCodeAttribute,CompilerGeneratedAttribute'
    }
    $reports = (Get-ChildItem $dir -Recurse -Filter 'coverage.cobertura.xml').FullName -join ';'
    if (-not $reports) { throw 'No coverage was collected.' }
    Invoke-Native 'reportgenerator' { dotnet reportgenerator "-reports:$reports" "-targetdir:$(Join-Path $dir 'report')" '-reporttypes:TextSummary;Html' '-verbosity:Warning' }
    Get-Content (Join-Path $dir 'report/Summary.txt')
}

function Invoke-Mutate {
    # Stryker mutates src/MlModels.Core/<Folder> and runs the Core tests marked Fast against each mutant, on .NET 10.
    # Globs are relative to src/MlModels.Core (Format/**/*.cs; one file: **/Signature.cs).
    $mutate = if ($Mutate) { $Mutate } else { @("$Folder/**/*.cs") }
    $stryker = @('--project', 'MlModels.Core.csproj', '--target-framework', 'net10.0', '--test-case-filter', 'Category=Fast',
        '--reporter', 'html', '--reporter', 'json', '--reporter', 'progress', '--output', (Join-Path $out "mutation/$Folder"))
    foreach ($m in $mutate) { $stryker += @('--mutate', $m) }
    Push-Location (Join-Path $root 'tests/MlModels.Core.Tests')
    try { Invoke-Native 'dotnet stryker' { dotnet stryker @stryker } }
    finally { Pop-Location }
}

function Invoke-Demo {
    Invoke-Build
    Invoke-Pwsh -NoProfile -NonInteractive -File (Join-Path $root 'examples/demo.ps1') -ModulePath $moduleOut
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

# The formatting rules `format` applies and `lint` verifies: whitespace and usings (always) and the style rules the
# build enforces; `format` adds RCS0056, whose Roslynator fix wraps long lines (`lint` checks line length itself, so a
# line no fix can wrap is reported once, as file:line). Analyzer findings that change code (CA*, RCS1*) are left to
# people: the build reports them, and CI's build (TreatWarningsAsErrors) fails on them.
$script:FormatDiagnostics = @('IDE0161', 'IDE0065', 'IDE0036')

function Get-MaxLineLength {
    $m = Select-String -Path (Join-Path $root '.editorconfig') -Pattern '^\s*roslynator_max_line_length\s*=\s*(\d+)' | Select-Object -First 1
    if (-not $m) { throw '.editorconfig sets no roslynator_max_line_length.' }
    [int] $m.Matches[0].Groups[1].Value
}

# Lines of src/**/*.cs longer than the limit, generated files (obj/, bin/, *.g.cs, <auto-generated>) left out.
function Get-LongLine([int] $max) {
    $src = Join-Path $root 'src'
    foreach ($file in Get-ChildItem $src -Recurse -File -Filter '*.cs' | Sort-Object FullName) {
        $rel = [IO.Path]::GetRelativePath($root, $file.FullName).Replace('\', '/')
        if ($rel -match '/(obj|bin)/' -or $rel -match '\.(g|g\.i|designer)\.cs$') { continue }
        $lines = [IO.File]::ReadAllLines($file.FullName)
        if ($lines.Count -gt 0 -and ($lines | Select-Object -First 10) -match '<auto-generated') { continue }
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i].Length -gt $max) { [pscustomobject]@{ Path = $rel; Line = $i + 1; Length = $lines[$i].Length } }
        }
    }
}

function Invoke-Format {
    $sln = Join-Path $root 'MlModels.PowerShell.sln'
    # A wrapped line can still be too long one level down: Roslynator's fix is applied until a pass changes nothing.
    for ($pass = 1; $pass -le 3; $pass++) {
        $before = @(Get-LongLine (Get-MaxLineLength)).Count
        Invoke-Native 'dotnet format' { dotnet format $sln --severity warn --diagnostics @FormatDiagnostics 'RCS0056' -v q }
        $after = @(Get-LongLine (Get-MaxLineLength)).Count
        Write-Host "format pass $pass`: lines over the limit under src/ $before -> $after"
        if ($after -eq $before) { break }
    }
    $long = @(Get-LongLine (Get-MaxLineLength))
    foreach ($l in $long) { Write-Host "$($l.Path):$($l.Line): $($l.Length) characters" }
    if ($long) { Write-Host "$($long.Count) lines under src/ are still over $(Get-MaxLineLength) characters: wrap them by hand." }
}

function Invoke-Lint {
    $max = Get-MaxLineLength
    $problems = @()
    & dotnet format (Join-Path $root 'MlModels.PowerShell.sln') --verify-no-changes --severity warn --diagnostics @FormatDiagnostics -v q
    if ($LASTEXITCODE -ne 0) { $problems += 'dotnet format --verify-no-changes: the files above are not formatted' }
    $long = @(Get-LongLine $max)
    foreach ($l in $long) { Write-Host "$($l.Path):$($l.Line): $($l.Length) characters, over $max" }
    if ($long) { $problems += "$($long.Count) lines under src/ over $max characters" }
    if ($problems) {
        foreach ($p in $problems) { Write-Host "lint failed: $p" }
        Write-Host 'To fix: dotnet pwsh ./build.ps1 format (then wrap by hand the lines it lists as still too long), and commit.'
        exit 1
    }
    Write-Host "lint passed: formatted, no line under src/ over $max characters"
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'coverage' { Invoke-Coverage }
    'mutate' { Invoke-Mutate }
    'demo' { Invoke-Demo }
    'format' { Invoke-Format }
    'lint' { Invoke-Lint }
    'clean' { if (Test-Path $out) { Remove-Item $out -Recurse -Force } }
    'package' { Invoke-Package }
    'publish' { Invoke-Publish }
    'image-tools' { Invoke-ImageTools }
}
