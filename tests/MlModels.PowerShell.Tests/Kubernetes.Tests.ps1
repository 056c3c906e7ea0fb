BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:KubeCmdlets = 'Export-MLModelKubernetes', 'Publish-MLModelKubernetes', 'Get-MLModelKubernetesDeployment',
        'Remove-MLModelKubernetesDeployment', 'Invoke-MLModelKubernetesEndpoint'
    # The Kubernetes API server fake (tests/MlModels.KubernetesFake) over HTTP on 127.0.0.1, reached through a kubeconfig.
    $fakeProject = Join-Path $RepoRoot 'tests/MlModels.KubernetesFake'
    $fakeDll = Join-Path $fakeProject 'bin/Release/net8.0/MlModels.KubernetesFake.dll'
    if (-not (Test-Path $fakeDll)) { dotnet build $fakeProject -c Release --nologo -v quiet | Out-Null }
    Add-Type -Path $fakeDll
    $script:Image = 'registry.example.com/churn:1.0'
}

Describe 'Kubernetes cmdlets' -Tag 'Fast' {
    It 'have help with a synopsis, examples and described parameters: <_>' -ForEach @(
        'Export-MLModelKubernetes', 'Publish-MLModelKubernetes', 'Get-MLModelKubernetesDeployment',
        'Remove-MLModelKubernetesDeployment', 'Invoke-MLModelKubernetesEndpoint'
    ) {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -Match '^\s*\S+\s*\['
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($p in $help.Parameters.Parameter) { ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $_ needs a description" }
    }

    It 'have a table view for deployments and exports, ask before deleting, and support -WhatIf where they change things' {
        foreach ($type in 'MlModels.Deploy.Kubernetes.KubernetesDeployment', 'MlModels.Deploy.Kubernetes.KubernetesExport') {
            (Get-FormatData -TypeName $type).FormatViewDefinition[0].Control | Should -BeOfType [System.Management.Automation.TableControl]
        }
        [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-MLModelKubernetesDeployment)).ConfirmImpact | Should -Be 'High'
        foreach ($name in 'Export-MLModelKubernetes', 'Publish-MLModelKubernetes', 'Remove-MLModelKubernetesDeployment', 'Invoke-MLModelKubernetesEndpoint') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}

Describe 'Export-MLModelKubernetes' -Tag 'Fast' {
    It 'writes an InferenceService, and a Deployment, Service and autoscaler, as YAML' {
        $file = Join-Path $TestDrive 'isvc.yaml'
        $r = Export-MLModelKubernetes -Name churn -Image $Image -Namespace models -MinReplicas 0 -MaxReplicas 3 -ModelName churn-model -OutputPath $file
        $r.Path | Should -Be $file
        $r.Objects | Should -Be @('InferenceService/churn')
        $text = Get-Content $file -Raw
        $text | Should -Match 'apiVersion: serving.kserve.io/v1beta1'
        $text | Should -Match 'containerPort: 8080'
        $text | Should -Match 'name: http1'
        $text | Should -Match 'value: churn-model'
        $text | Should -Match 'path: /v2/health/ready'

        $plain = Join-Path $TestDrive 'plain.yaml'
        (Export-MLModelKubernetes churn $Image -Kind Deployment -MinReplicas 2 -MaxReplicas 4 -OutputPath $plain).Objects |
            Should -Be @('Deployment/churn', 'Service/churn', 'HorizontalPodAutoscaler/churn')
        $docs = (Get-Content $plain -Raw) -split '(?m)^---\r?$'
        $docs.Count | Should -Be 3
        $docs[0] | Should -Match 'kind: Deployment'
        $docs[1] | Should -Match 'containerPort|port: 8081'
        $docs[2] | Should -Match 'maxReplicas: 4'
        # A fixed replica count needs no autoscaler.
        (Export-MLModelKubernetes churn $Image -Kind Deployment -MinReplicas 2 -OutputPath (Join-Path $TestDrive 'fixed.yaml')).Objects |
            Should -Be @('Deployment/churn', 'Service/churn')
    }

    It 'writes nothing with -WhatIf' {
        $file = Join-Path $TestDrive 'whatif.yaml'
        Export-MLModelKubernetes churn $Image -OutputPath $file -WhatIf
        Test-Path $file | Should -BeFalse
        Get-ChildItem $TestDrive -Filter '.whatif.yaml.*' -Force | Should -BeNullOrEmpty
    }

    It 'refuses to replace a file without -Force, and replaces it whole with -Force' {
        $file = Join-Path $TestDrive 'exists.yaml'
        Set-Content $file 'old'
        Export-MLModelKubernetes churn $Image -OutputPath $file -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'TargetExists'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-Force'
        Get-Content $file -Raw | Should -Match '^old'
        Export-MLModelKubernetes churn $Image -OutputPath $file -Force | Out-Null
        Get-Content $file -Raw | Should -Match 'kind: InferenceService'
        @(Get-ChildItem $TestDrive -Filter '.exists.yaml.*' -Force).Count | Should -Be 0
    }

    It 'refuses names and quantities Kubernetes would refuse, writing nothing' {
        $file = Join-Path $TestDrive 'bad.yaml'
        { Export-MLModelKubernetes Churn_1 $Image -OutputPath $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidKubernetesDeployment,*'
        { Export-MLModelKubernetes churn $Image -Namespace Bad_NS -OutputPath $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidKubernetesDeployment,*'
        { Export-MLModelKubernetes churn $Image -Memory 'lots' -OutputPath $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidKubernetesDeployment,*'
        Test-Path $file | Should -BeFalse
    }
}

Describe 'Publish-, Get-, Remove-MLModelKubernetesDeployment against the API server fake' -Tag 'Fast' {
    BeforeAll {
        $script:Server = [MlModels.KubernetesFake.KubeApiHttpServer]::Start()
        $script:Kc = $Server.WriteKubeconfig((Join-Path $TestDrive 'kubeconfig'), 'fake', 'models')
        $script:K = @{ Kubeconfig = $Kc }
        function Get-Writes { @($Server.Fake.Calls | Where-Object { $_ -match '^(POST|PUT|DELETE) ' }) }
    }
    AfterAll { $Server.Dispose() }

    It 'with -WhatIf only reads' {
        Publish-MLModelKubernetes churn $Image @K -WhatIf
        Get-Writes | Should -BeNullOrEmpty
        $Server.Fake.Calls | Should -Contain 'GET /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices/churn'
    }

    It 'creates an InferenceService, waits for Ready, and returns its URL' {
        $d = Publish-MLModelKubernetes churn $Image @K -ModelName churn-model
        $d.Ready | Should -BeTrue
        $d.Namespace | Should -Be 'models'
        $d.Url | Should -Be 'http://churn.models.example.com/'
        $d.ModelName | Should -Be 'churn-model'
        Get-Writes | Should -Be @('POST /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices')
    }

    It 'refuses to replace it without -Force (KubernetesObjectExists), and replaces it with -Force' {
        Publish-MLModelKubernetes churn $Image @K -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'KubernetesObjectExists'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-Force'
        $d = Publish-MLModelKubernetes churn 'registry.example.com/churn:2.0' @K -Force
        $d.Image | Should -Be 'registry.example.com/churn:2.0'
        Get-Writes | Should -Contain 'PUT /apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices/churn'
    }

    It 'deploys a plain Deployment with its Service and autoscaler' {
        $d = Publish-MLModelKubernetes fraud $Image @K -Kind Deployment -MinReplicas 2 -MaxReplicas 3
        $d.Ready | Should -BeTrue
        $d.Status | Should -Be '2/2 available'
        $d.ClusterUrl | Should -Be 'http://fraud.models.svc.cluster.local:8080/'
        $Server.Fake.Keys() | Should -Contain 'horizontalpodautoscalers/models/fraud'
        (Get-MLModelKubernetesDeployment @K).Name | Sort-Object | Should -Be @('churn', 'fraud')
        (Get-MLModelKubernetesDeployment fr* @K).Kind | Should -Be 'Deployment'
        Get-MLModelKubernetesDeployment missing @K -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'KubernetesDeploymentNotFound'
    }

    It 'reports a namespace that does not exist with the API''s own 404' {
        Publish-MLModelKubernetes churn $Image @K -Namespace nowhere -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'KubernetesNamespaceNotFound'
        $err[0].Exception.Message | Should -BeExactly 'namespaces "nowhere" not found'
        $err[0].TargetObject | Should -Be 'nowhere'
    }

    It 'reports a context the kubeconfig lacks, naming the context and the file' {
        { Get-MLModelKubernetesDeployment @K -Context prod -ErrorAction Stop } | Should -Throw -ErrorId 'KubernetesContextNotFound,*'
        try { Get-MLModelKubernetesDeployment @K -Context prod } catch { $e = $_ }
        $e.Exception.Message | Should -Match "no context 'prod'"
        $e.Exception.Message | Should -Match ([regex]::Escape($Kc))
    }

    It 'refuses an invalid name before any call' {
        $before = $Server.Fake.Calls.Count
        { Publish-MLModelKubernetes 'Churn.Model' $Image @K -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidKubernetesDeployment,*'
        { Remove-MLModelKubernetesDeployment 'Churn.Model' @K -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidKubernetesDeployment,*'
        $Server.Fake.Calls.Count | Should -Be $before
    }

    It 'stops waiting at -TimeoutSec, saying what it saw' {
        $Server.Fake.NeverReady = $true
        try {
            Publish-MLModelKubernetes slow $Image @K -Kind Deployment -TimeoutSec 1 -ErrorVariable err -ErrorAction SilentlyContinue
            ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'KubernetesDeploymentTimeout'
            $err[0].Exception.Message | Should -Match '0/1 available'
        }
        finally { $Server.Fake.NeverReady = $false }
    }

    It 'completes -Context from the kubeconfig' {
        $line = "Get-MLModelKubernetesDeployment -Kubeconfig '$Kc' -Context f"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('fake')
    }

    It 'deletes only with confirmation, and only the module''s objects' {
        Remove-MLModelKubernetesDeployment fraud @K -WhatIf
        $Server.Fake.Keys() | Should -Contain 'deployments/models/fraud'
        $gone = Remove-MLModelKubernetesDeployment fraud @K -Confirm:$false -PassThru
        $gone | Should -Be @('HorizontalPodAutoscaler/fraud', 'Service/fraud', 'Deployment/fraud')
        $Server.Fake.Keys() | Should -Not -Contain 'deployments/models/fraud'
        Remove-MLModelKubernetesDeployment fraud @K -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'KubernetesDeploymentNotFound'
    }
}

Describe 'Invoke-MLModelKubernetesEndpoint against the module''s own server (V2 REST)' -Tag 'Fast' {
    BeforeAll {
        $env:MLMODELS_STATE_DIR = Join-Path $TestDrive 'state'
        $script:Srv = Get-MLModel (Join-Path $Examples 'onnx-linear') | Start-MLModelServer -Background -Port (Get-FreePort) -ModelName churn
    }
    AfterAll {
        $Srv | Stop-MLModelServer
        Remove-Item Env:MLMODELS_STATE_DIR -ErrorAction Ignore
    }

    It 'scores pipeline objects, CSV rows and a V2 request file, one object per output row' {
        $rows = @([pscustomobject]@{ x1 = 1.0; x2 = 2.0; x3 = 3.0 }, [pscustomobject]@{ x1 = 0.0; x2 = 0.0; x3 = 0.0 })
        $byObject = $rows | Invoke-MLModelKubernetesEndpoint -Uri $Srv.Url -ModelName churn
        @($byObject).Count | Should -Be 2
        $byCsv = Invoke-MLModelKubernetesEndpoint $Srv.Url churn -InputCsv (Join-Path $Examples 'scoring-input.csv')
        @($byCsv).Count | Should -Be @(Import-Csv (Join-Path $Examples 'scoring-input.csv')).Count
        $byCsv[0].PSObject.Properties.Name | Should -Be $byObject[0].PSObject.Properties.Name
        "$($byCsv[0].PSObject.Properties.Value)" | Should -Be "$($byObject[0].PSObject.Properties.Value)"
        $json = Join-Path $TestDrive 'v2.json'
        Set-Content $json '{"inputs": [{"name": "x1", "datatype": "FP64", "shape": [1], "data": [1]}, {"name": "x2", "datatype": "FP64", "shape": [1], "data": [2]}, {"name": "x3", "datatype": "FP64", "shape": [1], "data": [3]}]}'
        $byJson = Invoke-MLModelKubernetesEndpoint $Srv.Url churn -InputJson $json
        "$($byJson.PSObject.Properties.Value)" | Should -Be "$($byObject[0].PSObject.Properties.Value)"
    }

    It 'types the columns as the model''s metadata says: integers in a CSV go as the FP64 the model takes' {
        $csv = Join-Path $TestDrive 'ints.csv'
        Set-Content $csv "x1,x2,x3`n1,2,3"
        $r = Invoke-MLModelKubernetesEndpoint $Srv.Url churn -InputCsv $csv
        "$($r.PSObject.Properties.Value)" | Should -Be "$((Invoke-MLModelKubernetesEndpoint $Srv.Url churn -InputObject @{ x1 = 1.0; x2 = 2.0; x3 = 3.0 }).PSObject.Properties.Value)"
    }

    It 'reports the server''s refusal and a missing value' {
        [pscustomobject]@{ x1 = 1.0; x2 = 2.0; x3 = 3.0 } | Invoke-MLModelKubernetesEndpoint $Srv.Url other -ErrorVariable err -ErrorAction SilentlyContinue
        ($err[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'PredictionFailed'
        $err[0].Exception.Message | Should -Match 'HTTP 404'
        @{ x1 = 1.0 }, @{ x2 = 2.0 } | Invoke-MLModelKubernetesEndpoint $Srv.Url churn -ErrorVariable err2 -ErrorAction SilentlyContinue
        ($err2[0].FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'InvalidInferenceRequest'
    }
}
