BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'MlModels.psd1')
    $commands = Get-Command -Module MlModels
}

Describe 'The module' {
    It 'exports exactly the cmdlets its manifest lists' {
        ($commands.Name | Sort-Object) | Should -Be ($manifest.CmdletsToExport | Sort-Object)
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

    It 'gives every cmdlet help with a synopsis, examples and described parameters: <_>' -ForEach @(
        'Get-MLModel', 'New-MLModel', 'Add-MLFlavor', 'Remove-MLFlavor', 'Set-MLModelSignature', 'Save-MLModel', 'Test-MLModel', 'Get-MLModelInputExample', 'Get-MLModelEnvironment'
    ) {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\S+\s*\[' # not the auto-generated syntax stub
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($p in $help.Parameters.Parameter) { ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) needs a description" }
    }

    It 'has an about topic, and help shows stated defaults' {
        (Get-Help about_MlModels | Out-String) | Should -Match 'MLflow Models in PowerShell'
        ((Get-Help Start-MLModelServer -Parameter Port) | Out-String) | Should -Match 'Default value\s+5000'
    }

    It 'declares OutputType on every cmdlet' {
        foreach ($c in $commands) { $c.OutputType | Should -Not -BeNullOrEmpty -Because $c.Name }
    }

    It 'supports -WhatIf on every cmdlet that changes state' {
        foreach ($name in 'Add-MLFlavor', 'Remove-MLFlavor', 'Set-MLModelSignature', 'Save-MLModel') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
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
}

Describe 'Dependency isolation' {
    BeforeAll {
        $other = $env:MLMODELS_OTHER_YAMLDOTNET
        if (-not $other) { $other = Get-ChildItem (Join-Path $HOME '.nuget/packages/yamldotnet/13.1.1') -Recurse -Filter YamlDotNet.dll | Where-Object FullName -match 'netstandard2.1' | Select-Object -First 1 -ExpandProperty FullName }
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

Describe 'Module objects in scripts' {
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
