@{
    RootModule           = 'MlModels.PowerShell.dll'
    ModuleVersion        = '0.2.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f1c2d7e-3b8a-4d5e-9c41-2a7b8e0f5d13'
    Author               = 'MlModels contributors'
    CompanyName          = 'MlModels'
    Copyright            = '(c) MlModels contributors. MIT License.'
    Description          = 'MLflow Models in PowerShell: read, create, validate and save MLmodel folders; score them natively with ONNX Runtime or through a Python worker; serve them with MLflow''s scoring protocol, Azure ML''s and the Open Inference Protocol (KServe V2); build Docker images; deploy to Amazon SageMaker and Azure ML; read and register models on MLflow tracking servers and artifact stores (S3, Azure Blob, Google Cloud Storage); evaluate them as mlflow.evaluate does.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('MlModels.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-MLModel'
        'New-MLModel'
        'Add-MLFlavor'
        'Remove-MLFlavor'
        'Set-MLModelSignature'
        'Save-MLModel'
        'Test-MLModel'
        'Get-MLModelInputExample'
        'Get-MLModelEnvironment'
        'Invoke-MLModelPrediction'
        'Measure-MLModel'
        'Initialize-MLModelEnvironment'
        'Get-MLModelWorker'
        'Clear-MLModelWorkerCache'
        'Start-MLModelServer'
        'Get-MLModelServer'
        'New-MLModelDockerfile'
        'Build-MLModelImage'
        'Publish-MLModelImage'
        'Start-MLModelContainer'
        'Get-MLModelContainer'
        'Stop-MLModelContainer'
        'Stop-MLModelServer'
        'Publish-MLModelSageMaker'
        'Get-MLModelSageMakerDeployment'
        'Remove-MLModelSageMakerDeployment'
        'Invoke-MLModelSageMakerEndpoint'
        'Start-MLModelSageMakerTransform'
        'Get-MLModelSageMakerTransform'
        'Stop-MLModelSageMakerTransform'
        'Publish-MLModel'
        'Get-MLModelVersion'
        'Set-MLModelVersion'
        'Remove-MLModelVersion'
        'Export-MLModelAzureML'
        'Publish-MLModelAzureML'
        'Get-MLModelAzureMLEndpoint'
        'Set-MLModelAzureMLEndpoint'
        'Remove-MLModelAzureMLEndpoint'
        'Invoke-MLModelAzureMLEndpoint'
        'Start-MLModelAzureMLBatchJob'
        'Get-MLModelAzureMLBatchJob'
        'Publish-MLModelSageMakerImage'
        'Start-MLModelSageMakerLocal'
        'Export-MLModelKubernetes'
        'Publish-MLModelKubernetes'
        'Get-MLModelKubernetesDeployment'
        'Remove-MLModelKubernetesDeployment'
        'Invoke-MLModelKubernetesEndpoint'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # The version in full is ModuleVersion-Prerelease; the projects' builds read both from here.
            Prerelease   = 'preview1'
            Tags         = @('MLflow', 'MachineLearning', 'MLOps', 'Model', 'ONNX', 'OnnxRuntime', 'Scoring', 'Inference', 'ModelServing',
                'KServe', 'Docker', 'SageMaker', 'AWS', 'AzureML', 'Azure', 'ModelRegistry', 'Evaluation', 'Linux', 'Windows', 'MacOS',
                'PSEdition_Core')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            # build.ps1 writes the CHANGELOG.md section of this version here in the built manifest.
            ReleaseNotes = 'See CHANGELOG.md.'
            # ProjectUri and HelpInfoURI stay unset until the project has a public address.
        }
    }
}
