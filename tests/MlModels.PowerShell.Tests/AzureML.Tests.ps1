BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:AzureCmdlets = 'Export-MLModelAzureML', 'Publish-MLModelAzureML', 'Get-MLModelAzureMLEndpoint', 'Set-MLModelAzureMLEndpoint',
        'Remove-MLModelAzureMLEndpoint', 'Invoke-MLModelAzureMLEndpoint', 'Start-MLModelAzureMLBatchJob', 'Get-MLModelAzureMLBatchJob'
    $script:Ws = @{ ResourceGroupName = 'ml-rg'; WorkspaceName = 'ml-ws'; SubscriptionId = '00000000-1111-2222-3333-444444444444' }
}

Describe 'Azure ML cmdlets' -Tag 'Fast' {
    It 'have help with a synopsis, examples and described parameters: <_>' -ForEach @(
        'Export-MLModelAzureML', 'Publish-MLModelAzureML', 'Get-MLModelAzureMLEndpoint', 'Set-MLModelAzureMLEndpoint',
        'Remove-MLModelAzureMLEndpoint', 'Invoke-MLModelAzureMLEndpoint', 'Start-MLModelAzureMLBatchJob', 'Get-MLModelAzureMLBatchJob'
    ) {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -Match '^\s*\S+\s*\['
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($p in $help.Parameters.Parameter) { ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $_ needs a description" }
    }

    It 'have table views for endpoints and batch jobs' {
        foreach ($type in 'MlModels.Deploy.AzureML.AzureMLEndpoint', 'MlModels.Deploy.AzureML.BatchJobResource') {
            $view = Get-FormatData -TypeName $type
            $view | Should -Not -BeNullOrEmpty -Because $type
            $view.FormatViewDefinition[0].Control | Should -BeOfType [System.Management.Automation.TableControl]
        }
    }

    It 'asks before deleting an endpoint (ConfirmImpact High)' {
        $meta = [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-MLModelAzureMLEndpoint))
        $meta.ConfirmImpact | Should -Be 'High'
        foreach ($name in 'Publish-MLModelAzureML', 'Export-MLModelAzureML', 'Set-MLModelAzureMLEndpoint', 'Start-MLModelAzureMLBatchJob') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}

Describe 'Export-MLModelAzureML' -Tag 'Fast' {
    It 'writes a folder that deploys without the module, and refuses to overwrite it without -Force' {
        $dest = Join-Path $TestDrive 'azml'
        $r = Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint
        $r.Files | Should -Contain 'score.py'
        $r.Files | Should -Contain 'model/MLmodel'
        (Get-Content (Join-Path $dest 'model.yml') -Raw) | Should -Match 'type: mlflow_model'
        (Get-Content (Join-Path $dest 'create_service.sh') -Raw) | Should -Match 'az ml online-deployment create'
        Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'DestinationExists'
        { Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint -Force } | Should -Not -Throw
    }

    It 'writes nothing with -WhatIf' {
        $dest = Join-Path $TestDrive 'whatif'
        Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint -WhatIf
        Test-Path $dest | Should -BeFalse
    }

    It 'writes a deploy.ps1 whose commands and parameters exist in the module' {
        $dest = Join-Path $TestDrive 'ps1'
        Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint | Out-Null
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile((Join-Path $dest 'deploy.ps1'), [ref]$tokens, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        $text = Get-Content (Join-Path $dest 'deploy.ps1') -Raw
        $keys = [regex]::Matches($text, '(?m)^\s+(\w+)\s+=') | ForEach-Object { $_.Groups[1].Value }
        $params = (Get-Command Publish-MLModelAzureML).Parameters.Keys
        foreach ($k in $keys) { $params | Should -Contain $k }
    }
}

Describe 'Publish-MLModelAzureML' -Tag 'Fast' {
    It 'refuses an endpoint name Azure would refuse before signing in' {
        { Publish-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -EndpointName 'bad_name' @Ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidAzureMLName,*'
    }

    It 'sends a model without a python_function flavor to the scoring-script deployment' {
        $dir = New-TestModel (Join-Path $TestDrive 'onnx-only') "flavors:`n  onnx:`n    data: model.onnx`n"
        { Publish-MLModelAzureML -Path $dir -EndpointName churn-endpoint @Ws -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelNotServableNoCode,*' -ExpectedMessage '*Publish-MLModelAzureML -ScoringScript -CodePath*'
    }

    It 'with -WhatIf makes no call and needs no sign-in' {
        $out = Invoke-FreshPwsh @"
Import-Module '$ModulePath'
Publish-MLModelAzureML -Path '$(Join-Path $Examples 'pyfunc-custom')' -EndpointName churn-endpoint -ResourceGroupName ml-rg -WorkspaceName ml-ws -SubscriptionId sub1 -Traffic @{ blue = 90; green = 10 } -WhatIf
"@
        $text = $out -join "`n"
        $text | Should -Match 'PUT https://management\.azure\.com/subscriptions/sub1/resourceGroups/ml-rg/providers/Microsoft\.MachineLearningServices/workspaces/ml-ws/models/pyfunc-custom/versions/\{next\}\?api-version=2025-12-01'
        $text | Should -Match 'onlineEndpoints/churn-endpoint/deployments/blue\?api-version=2025-12-01'
        $text | Should -Match 'traffic blue=90, green=10'
    }

    It 'with -ScoringScript -WhatIf lists the code and environment versions, and refuses a code folder without score.py' {
        $dest = Join-Path $TestDrive 'script-export'
        Export-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -DestinationPath $dest -EndpointName churn-endpoint | Out-Null
        $out = Invoke-FreshPwsh @"
Import-Module '$ModulePath'
Publish-MLModelAzureML -Path '$(Join-Path $Examples 'pyfunc-custom')' -EndpointName churn-endpoint -ResourceGroupName ml-rg -WorkspaceName ml-ws -SubscriptionId sub1 -CodePath '$dest' -WhatIf
"@
        $text = $out -join "`n"
        $text | Should -Match 'workspaces/ml-ws/codes/pyfunc-custom-code/versions/\{next\}\?api-version=2025-12-01 \(CodeVersions_CreateOrUpdate\)'
        $text | Should -Match 'workspaces/ml-ws/environments/pyfunc-custom-env/versions/\{next\}\?api-version=2025-12-01 \(EnvironmentVersions_CreateOrUpdate'
        { Publish-MLModelAzureML -Path (Join-Path $Examples 'pyfunc-custom') -EndpointName churn-endpoint @Ws -CodePath $TestDrive -ErrorAction Stop } |
            Should -Throw -ErrorId 'ScoringScriptNotFound,*'
        (Get-Content (Join-Path $dest 'deploy.ps1') -Raw) | Should -Match '\$publish\.CodePath = \$PSScriptRoot'
    }

    It 'names every credential source and Connect-AzAccount when not signed in' {
        $out = Invoke-FreshPwsh @"
Get-ChildItem env:AZURE_*, env:AZURESUBSCRIPTION_*, env:IDENTITY_ENDPOINT, env:MSI_ENDPOINT -ErrorAction Ignore | Remove-Item
`$env:AZURE_CONFIG_DIR = '$(Join-Path $TestDrive 'no-az')'
Import-Module '$ModulePath'
try { Publish-MLModelAzureML -Path '$(Join-Path $Examples 'pyfunc-custom')' -EndpointName churn-endpoint -ResourceGroupName ml-rg -WorkspaceName ml-ws -SubscriptionId sub1 -ResourceManagerUrl http://127.0.0.1:9/ -ErrorAction Stop }
catch { 'ID=' + `$_.FullyQualifiedErrorId; `$_.Exception.Message }
"@
        $text = $out -join "`n"
        if ($text -match 'ID=AzureConnectionFailed') { Set-ItResult -Skipped -Because 'this machine is signed in to Azure' }
        $text | Should -Match 'ID=AzureNotSignedIn'
        foreach ($source in 'AzurePipelines', 'Environment', 'WorkloadIdentity', 'AzurePowerShell', 'AzureCli', 'ManagedIdentity') { $text | Should -Match $source }
        $text | Should -Match 'Connect-AzAccount'
    }
}

Describe 'docs/examples/azure-pipelines.yml' -Tag 'Python' {
    BeforeAll {
        $script:Pipeline = Join-Path $RepoRoot 'docs/examples/azure-pipelines.yml'
        $script:HasYaml = (Test-Path /usr/bin/python3) -and ((& /usr/bin/python3 -c 'import yaml' 2>&1), $LASTEXITCODE)[-1] -eq 0
    }

    It 'parses as an Azure Pipelines definition: stages of jobs of steps, each step a task, script or pwsh' {
        if (-not $HasYaml) { if ($env:CI) { throw 'CI must provide python3 with PyYAML' } else { Set-ItResult -Skipped -Because 'python3 with PyYAML is not installed here'; return } }
        $json = & /usr/bin/python3 -c "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))" $Pipeline
        $LASTEXITCODE | Should -Be 0
        $doc = $json | ConvertFrom-Json -AsHashtable
        $doc.Keys | Should -Contain 'stages'
        $doc.trigger | Should -Not -BeNullOrEmpty
        foreach ($stage in $doc.stages) {
            $stage.stage | Should -Match '^\w+$'
            foreach ($job in $stage.jobs) {
                $job.job | Should -Match '^\w+$'
                $job.pool | Should -Not -BeNullOrEmpty
                foreach ($step in $job.steps) {
                    @($step.Keys | Where-Object { $_ -in 'task', 'script', 'pwsh', 'bash', 'powershell', 'checkout' }).Count | Should -Be 1
                    if ($step.task) {
                        $step.task | Should -Match '^\w+@\d+$'
                        if ($step.task -like 'AzurePowerShell@*') { $step.inputs.azureSubscription | Should -Not -BeNullOrEmpty; $step.inputs.Inline | Should -Not -BeNullOrEmpty }
                    }
                }
            }
        }
        ($doc.stages.jobs.steps | Where-Object { $_.task -like 'AzurePowerShell@*' }).Count | Should -BeGreaterOrEqual 2
    }

    It 'uses only cmdlets and parameters that exist' {
        if (-not $HasYaml) { if ($env:CI) { throw 'CI must provide python3 with PyYAML' } else { Set-ItResult -Skipped -Because 'python3 with PyYAML is not installed here'; return } }
        $json = & /usr/bin/python3 -c "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))" $Pipeline
        $doc = $json | ConvertFrom-Json -AsHashtable
        $scripts = foreach ($step in $doc.stages.jobs.steps) { if ($step.pwsh) { $step.pwsh } elseif ($step.inputs.Inline) { $step.inputs.Inline } }
        $module = Get-Command -Module MlModels
        $used = @{}
        foreach ($s in $scripts) {
            # Pipeline macros $(name) become plain words so the script parses as PowerShell.
            $code = [regex]::Replace($s, '\$\((\w+(\.\w+)?)\)', 'macro_$1')
            $tokens = $null; $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref]$tokens, [ref]$errors)
            $errors | Should -BeNullOrEmpty
            foreach ($cmd in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $name = $cmd.GetCommandName()
                if ($name -notmatch '-ML(Model|Flavor)') { continue }
                $info = $module | Where-Object Name -eq $name
                $info | Should -Not -BeNullOrEmpty -Because "$name must exist"
                $used[$name] = $true
                foreach ($p in $cmd.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $known = $info.Parameters.Values | Where-Object { $_.Name -eq $p.ParameterName -or $_.Aliases -contains $p.ParameterName }
                    $known | Should -Not -BeNullOrEmpty -Because "$name has no parameter -$($p.ParameterName)"
                }
            }
            # Splatted hashtables name parameters too: each key must be a Publish-MLModelAzureML parameter.
            foreach ($h in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.HashtableAst] -and $args[0].Parent.Left.VariablePath.UserPath -eq 'publish' }, $true)) {
                foreach ($k in $h.KeyValuePairs.Item1.Value) { (Get-Command Publish-MLModelAzureML).Parameters.Keys | Should -Contain $k }
            }
        }
        foreach ($c in 'Test-MLModel', 'Invoke-MLModelPrediction', 'Measure-MLModel', 'Build-MLModelImage', 'Publish-MLModelAzureML', 'Invoke-MLModelAzureMLEndpoint', 'Set-MLModelAzureMLEndpoint') { $used.Keys | Should -Contain $c }
    }

    It 'runs a container job on the tools image, whose steps import nothing: the module is installed in it' {
        if (-not $HasYaml) { if ($env:CI) { throw 'CI must provide python3 with PyYAML' } else { Set-ItResult -Skipped -Because 'python3 with PyYAML is not installed here'; return } }
        $doc = & /usr/bin/python3 -c "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))" $Pipeline | ConvertFrom-Json -AsHashtable
        $jobs = @($doc.stages.jobs | Where-Object { $_.container })
        $jobs.Count | Should -Be 1
        $jobs[0].container.image | Should -Be '${{ variables.toolsImage }}'
        $doc.variables.toolsImage | Should -Match '/mlmodels-tools:'
        $scripts = @($jobs[0].steps.pwsh)
        $scripts -join "`n" | Should -Not -Match 'Import-Module'
        $scripts -join "`n" | Should -Match 'Invoke-MLModelPrediction'
    }

    It 'gates on Measure-MLModel thresholds and publishes the evaluation folder even when the gate fails' {
        if (-not $HasYaml) { if ($env:CI) { throw 'CI must provide python3 with PyYAML' } else { Set-ItResult -Skipped -Because 'python3 with PyYAML is not installed here'; return } }
        $doc = & /usr/bin/python3 -c "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))" $Pipeline | ConvertFrom-Json -AsHashtable
        $steps = @($doc.stages.jobs.steps)
        $gate = $steps | Where-Object { $_.inputs.Inline -match 'Measure-MLModel' }
        $gate.inputs.Inline | Should -Match '-Threshold'
        $gate.inputs.Inline | Should -Match '-Baseline'
        $folder = [regex]::Match($gate.inputs.Inline, '-OutputPath (\S+)').Groups[1].Value
        $publish = $steps | Where-Object { $_.task -like 'PublishPipelineArtifact@*' }
        $publish.inputs.targetPath | Should -Be $folder
        $publish.condition | Should -Be 'succeededOrFailed()'
        [array]::IndexOf($steps, $publish) | Should -BeGreaterThan ([array]::IndexOf($steps, $gate))
    }
}
