BeforeDiscovery {
    $moduleDir = if ($env:MLMODELS_MODULE) { $env:MLMODELS_MODULE } else { Join-Path $PSScriptRoot '../../out/MlModels' }
    $exported = @((Import-PowerShellDataFile (Join-Path $moduleDir 'MlModels.psd1')).CmdletsToExport)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'MlModels.psd1')
    $commands = Get-Command -Module MlModels
}

Describe 'The module' -Tag 'Fast' {
    It 'exports exactly the cmdlets its manifest lists' {
        ($commands.Name | Sort-Object) | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'exports every cmdlet class of its assembly, each with a page in docs/cmdlets' {
        # A cmdlet written but not added to the manifest, or added without help, is caught here.
        $assembly = (Get-Command Get-MLModel).ImplementingType.Assembly
        $classes = @($assembly.GetTypes() | Where-Object { -not $_.IsAbstract } | ForEach-Object {
                $a = [Attribute]::GetCustomAttribute($_, [System.Management.Automation.CmdletAttribute])
                if ($a) { "$($a.VerbName)-$($a.NounName)" }
            })
        $classes.Count | Should -BeGreaterThan 0
        foreach ($name in $classes) {
            $manifest.CmdletsToExport | Should -Contain $name -Because "the assembly has a cmdlet class for $name"
            Join-Path $RepoRoot "docs/cmdlets/$name.md" | Should -Exist -Because "$name needs its help page"
        }
    }

    It 'carries the version of its manifest in its assemblies' {
        $version = [version] $manifest.ModuleVersion
        $full = if ($manifest.PrivateData.PSData['Prerelease']) { "$version-$($manifest.PrivateData.PSData.Prerelease)" } else { "$version" }
        (Get-Module MlModels).Version | Should -Be $version
        foreach ($dll in (Join-Path $ModulePath 'MlModels.PowerShell.dll'), (Join-Path $ModulePath 'dependencies/MlModels.Core.dll'), (Join-Path $ModulePath 'dependencies/MlModels.Server.dll')) {
            [Reflection.AssemblyName]::GetAssemblyName($dll).Version.ToString(3) | Should -Be $version.ToString(3) -Because $dll
            # The version in full (prerelease included) is what /version and the image labels report.
            [Diagnostics.FileVersionInfo]::GetVersionInfo($dll).ProductVersion | Should -Be $full -Because $dll
        }
    }

    It 'has the release notes of its version''s CHANGELOG section, the newest there' {
        $full = if ($manifest.PrivateData.PSData['Prerelease']) { "$($manifest.ModuleVersion)-$($manifest.PrivateData.PSData.Prerelease)" } else { $manifest.ModuleVersion }
        $changelog = Get-Content (Join-Path $RepoRoot 'CHANGELOG.md') -Raw
        $newest = [regex]::Match($changelog, '(?m)^## \[(?!Unreleased\])([^\]]+)\]').Groups[1].Value
        $newest | Should -Be $full -Because 'CHANGELOG.md describes the version the manifest states first'
        $section = [regex]::Match($changelog, "(?ms)^## \[$([regex]::Escape($full))\][^\n]*\n(.*?)(?=^## |\z)").Groups[1].Value.Trim()
        $manifest.PrivateData.PSData.ReleaseNotes | Should -Be $section
    }

    It 'describes what it does now and leaves ProjectUri and HelpInfoURI unset' {
        foreach ($area in 'ONNX', 'Python', 'serve', 'Docker', 'SageMaker', 'Azure ML', 'tracking', 'evaluate') { $manifest.Description | Should -Match $area }
        foreach ($tag in 'ONNX', 'SageMaker', 'AzureML', 'Docker', 'Evaluation', 'PSEdition_Core') { $manifest.PrivateData.PSData.Tags | Should -Contain $tag }
        $manifest.PrivateData.PSData.Keys | Should -Not -Contain 'ProjectUri'
        $manifest.Keys | Should -Not -Contain 'HelpInfoURI'
    }

    It 'ships its licence and a notice for every bundled assembly and native library' {
        Join-Path $ModulePath 'LICENSE' | Should -Exist
        (Get-Content (Join-Path $ModulePath 'LICENSE') -Raw) | Should -Match 'MIT License'
        $notices = Get-Content (Join-Path $ModulePath 'THIRD-PARTY-NOTICES.md') -Raw
        $bundled = Get-ChildItem (Join-Path $ModulePath 'dependencies') -Recurse -File | Where-Object { $_.Extension -in '.dll', '.so', '.dylib' -and $_.Name -notlike 'MlModels.*' }
        @($bundled).Count | Should -BeGreaterThan 0
        foreach ($f in $bundled) {
            $notices | Should -Match "[``/]$([regex]::Escape($f.Name))``" -Because "THIRD-PARTY-NOTICES.md needs a row for $($f.Name) (its package, version, licence)"
        }
    }

    It 'targets PowerShell 7.4 Core and carries PSData tags' {
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.PrivateData.PSData.Tags | Should -Contain 'MLflow'
    }

    It 'uses approved verbs and MLModel/MLFlavor nouns' {
        $approved = (Get-Verb).Verb
        foreach ($c in $commands) {
            $approved | Should -Contain $c.Verb
            $c.Noun | Should -Match '^ML(Model|Flavor)'
        }
    }

    It 'has an about topic, and help shows stated defaults' {
        (Get-Help about_MlModels | Out-String) | Should -Match 'MLflow Models in PowerShell'
        ((Get-Help Start-MLModelServer -Parameter Port) | Out-String) | Should -Match 'Default value\s+5000'
    }

    It 'completes flavor names' {
        $line = 'New-MLModel | Add-MLFlavor -Name sk'
        $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $result.CompletionMatches.CompletionText | Should -Contain 'sklearn'
    }

    It 'keeps third-party assemblies out of the default load context' {
        $yaml = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' }
        Get-MLModel (Join-Path $Examples 'sklearn-2018') | Out-Null
        $ours = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'MlModels.Core' }
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($ours[0]).Name | Should -Be 'MlModels'
        $theirs = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' }
        foreach ($a in $theirs) { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name | Should -Be 'MlModels' }
    }

    It 'loads Deploy and Docker.DotNet in the module context, not the default one' {
        # A Docker cmdlet pointed at no engine still loads Deploy and the Docker client.
        Build-MLModelImage -Path (Join-Path $Examples 'onnx-linear') -Tag 'isolation:1' -DockerHost "unix://$TestDrive/none.sock" -ErrorAction SilentlyContinue
        foreach ($name in 'MlModels.Deploy', 'Docker.DotNet') {
            $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name }
            $loaded | Should -Not -BeNullOrEmpty -Because $name
            foreach ($a in $loaded) { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name | Should -Be 'MlModels' -Because $name }
        }
        # Framework assemblies that packages also carry (System.Text.Json) come from the framework, so types agree.
        $json = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'System.Text.Json' }
        foreach ($a in $json) { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name | Should -Be 'Default' }
    }
}

Describe 'Every cmdlet the manifest exports' -Tag 'Fast' {
    BeforeAll {
        # Verbs that only read; every other verb changes something and must support -WhatIf and -Confirm.
        $readOnlyVerbs = 'Get', 'Test', 'Find', 'Search', 'Show', 'Measure', 'Compare', 'Format', 'Resolve', 'Select', 'Watch', 'Wait', 'Read', 'Trace', 'ConvertTo', 'ConvertFrom'
        # Builds an object in memory only, as New-Guid does; nothing outside the session changes.
        $inMemoryOnly = 'New-MLModel'
        # Reads by its verb, but writes when asked to (Measure-MLModel -OutputPath, -RunId): those writes ask first.
        $writesWhenAsked = 'Measure-MLModel'
    }

    It 'are there to check' -TestCases @{ Names = $exported } {
        @($Names).Count | Should -BeGreaterThan 0
        foreach ($name in $Names) { Get-Command $name -Module MlModels -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty -Because "$name is in CmdletsToExport" }
    }

    Context '<_>' -ForEach $exported {
        It 'has help with a synopsis, an example and a description of every parameter' {
            $help = Get-Help $_ -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            $help.Synopsis | Should -Not -Match '^\s*\S+\s*\[' -Because 'the auto-generated syntax stub means docs/cmdlets has no page for it'
            $examples = @($help.Examples.Example)
            $examples.Count | Should -BeGreaterOrEqual 1
            foreach ($e in $examples) { ($e.Code | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "every example of $_ shows code" }
            foreach ($p in $help.Parameters.Parameter) { ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) needs a description" }
        }

        It 'declares its output type' {
            (Get-Command $_).OutputType | Should -Not -BeNullOrEmpty
        }

        It 'supports -WhatIf and -Confirm when it changes state' {
            $command = Get-Command $_
            if (($command.Verb -in $readOnlyVerbs -and $_ -notin $writesWhenAsked) -or $_ -in $inMemoryOnly) {
                $command.Parameters.Keys | Should -Not -Contain 'WhatIf' -Because "a $($command.Verb) command changes nothing"
            }
            else {
                $command.Parameters.Keys | Should -Contain 'WhatIf'
                $command.Parameters.Keys | Should -Contain 'Confirm'
            }
        }
    }
}

Describe 'Dependency isolation' -Tag 'Fast' {
    BeforeAll {
        $other = $env:MLMODELS_OTHER_YAMLDOTNET
        if (-not $other) {
            # Run outside build.ps1: the version build/tools.proj downloads, as Directory.Packages.props pins it.
            $props = [xml](Get-Content (Join-Path $RepoRoot 'Directory.Packages.props') -Raw)
            $version = @($props.Project.PropertyGroup | ForEach-Object { $_.OtherYamlDotNetVersion } | Where-Object { $_ })[0]
            $other = Join-Path $HOME ".nuget/packages/yamldotnet/$version/lib/netstandard2.1/YamlDotNet.dll"
        }
        $sample = Join-Path $Examples 'sklearn-2018'
    }

    It 'works when another YamlDotNet version is loaded first' {
        $other | Should -Exist
        $out = Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'
Add-Type -Path '$other'
`$before = ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'YamlDotNet' }).GetName().Version.ToString()
Import-Module '$ModulePath'
`$m = Get-MLModel '$sample'
"before=`$before flavors=`$(`$m.FlavorNames -join ',') yaml=`$((New-Object YamlDotNet.Serialization.Serializer).GetType().Assembly.GetName().Version)"
"@
        ($out -join "`n") | Should -Match 'before=13\.0\.0\.0 flavors=python_function,sklearn yaml=13\.0\.0\.0'
    }

    It 'lets another YamlDotNet version load after the module' {
        $out = Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$m = Get-MLModel '$sample'
Add-Type -Path '$other'
`$ser = [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize(@{ a = 1 })
`$m2 = Get-MLModel '$sample'
"flavors=`$(`$m2.FlavorNames -join ',') theirs=`$(`$ser.Trim())"
"@
        ($out -join "`n") | Should -Match 'flavors=python_function,sklearn theirs=a: 1'
    }
}

Describe 'A damaged install' -Tag 'Fast' {
    It 'reports a missing dependency as an error instead of crashing the session' {
        $copy = Join-Path $TestDrive 'broken/MlModels'
        Copy-Item $ModulePath $copy -Recurse
        Remove-Item (Join-Path $copy 'dependencies/MlModels.Core.dll')
        $out = Invoke-FreshPwsh "Import-Module '$copy'; try { Get-MLModel '$(Join-Path $Examples 'sklearn-2018')' -ErrorAction Stop } catch { 'caught: ' + `$_.Exception.GetType().Name }; 'session alive'"
        $text = $out -join "`n"
        $text | Should -Not -Match 'Stack overflow'
        $text | Should -Match 'caught: '
        $text | Should -Match 'session alive'
    }
}

Describe 'Module objects in scripts' -Tag 'Fast' {
    It 'export to CSV with their properties' {
        $csv = Join-Path $TestDrive 'models.csv'
        Get-MLModel $Examples -Recurse | Select-Object Name, RunId, MlflowVersion, UtcTimeCreated, @{ n = 'Flavors'; e = { $_.FlavorNames -join ';' } } | Export-Csv $csv
        $rows = Import-Csv $csv
        $rows.Count | Should -BeGreaterOrEqual 2
        ($rows | Where-Object Name -eq 'sklearn-2018').Flavors | Should -Be 'python_function;sklearn'
    }

    It 'formats as a table with the model view' {
        $text = Get-MLModel (Join-Path $Examples 'sklearn-2018') | Format-Table | Out-String -Width 200
        $text | Should -Match 'Flavors'
        $text | Should -Match 'python_function, sklearn'
        $text | Should -Match '2018-06-05 17:11'
    }
}
