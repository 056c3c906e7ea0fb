using System.Text;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Deploy.AzureML;

/// <summary>Names and sizes written into an exported folder.</summary>
public sealed record AzureMLExportOptions(string EndpointName)
{
    public string DeploymentName { get; init; } = "blue";
    public string? ModelName { get; init; }
    public string InstanceType { get; init; } = "Standard_DS3_v2";
    public int InstanceCount { get; init; } = 1;
    /// <summary>The base image of the scoring-script deployment's environment.</summary>
    public string Image { get; init; } = DefaultImage;

    /// <summary>Azure ML's curated inference base image, where the scoring script's conda environment is laid.</summary>
    public const string DefaultImage = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest";
    public bool Force { get; init; }
}

/// <summary>What was exported: the folder and the files in it, relative to it.</summary>
public sealed record AzureMLExport(string Path, string ModelName, string EndpointName, IReadOnlyList<string> Files);

/// <summary>
/// Writes a folder that deploys to Azure ML with no MlModels installed (MLflow's <c>azureml export</c> layout, brought to
/// Azure ML v2): the model, score.py, the environment from the model's own files, the v2 YAML the az ml CLI reads
/// (model, endpoint, a no-code deployment and a scoring-script one), create_service.sh and deploy.ps1. The folder is
/// built beside the target and renamed into place, so a failure leaves nothing half-written.
/// </summary>
public static class AzureMLExporter
{
    public const string ScoringScriptDeploymentFile = "deployment-scoring-script.yml";

    public static string ScorePy()
    {
        using var stream = typeof(AzureMLExporter).Assembly.GetManifestResourceStream("MlModels.Deploy.AzureML.score.py")
            ?? throw new InvalidOperationException("score.py is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static AzureMLExport Export(MLModel model, string destination, AzureMLExportOptions options, CancellationToken ct = default)
    {
        if (model.Path == null) throw new InvalidOperationException("The model has not been saved; save it (Save-MLModel) before exporting it.");
        AzureMLNames.CheckEndpoint(options.EndpointName);
        AzureMLNames.CheckResource("deployment", options.DeploymentName);
        var modelName = AzureMLDeployer.ModelNameOf(new AzureMLPublishRequest(model.Path, options.EndpointName) { ModelName = options.ModelName });
        AzureMLNames.CheckResource("model", modelName);
        if (options.InstanceCount < 1) throw new ArgumentException($"The instance count must be at least 1, not {options.InstanceCount}.");

        destination = System.IO.Path.GetFullPath(destination);
        var modelRoot = System.IO.Path.GetFullPath(model.Path);
        if (destination.StartsWith(
            System.IO.Path.TrimEndingDirectorySeparator(modelRoot) + System.IO.Path.DirectorySeparatorChar,
            StringComparison.Ordinal) || destination == modelRoot)
            throw new ArgumentException($"The export folder '{destination}' is inside the model folder '{modelRoot}'.");
        if (File.Exists(destination)) throw new IOException($"'{destination}' is a file.");
        if (Directory.Exists(destination) && !options.Force)
            throw new IOException($"The folder '{destination}' exists; use -Force to replace it.");

        var parent = System.IO.Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(parent);
        var staging = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(destination)}.export-{Guid.NewGuid():N}");
        try
        {
            var files = new List<string>();
            void Write(string rel, string text, bool executable = false)
            {
                var full = System.IO.Path.Combine(staging, rel);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
                File.WriteAllText(full, text.ReplaceLineEndings("\n"), new UTF8Encoding(false));
                if (executable && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(
                        full,
                        File.GetUnixFileMode(full) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
                files.Add(rel);
            }

            foreach (var f in DatastoreUploader.FilesOf(modelRoot))
            {
                ct.ThrowIfCancellationRequested();
                var rel = System.IO.Path.GetRelativePath(modelRoot, f);
                var to = System.IO.Path.Combine(staging, "model", rel);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(to)!);
                File.Copy(f, to);
                files.Add("model/" + rel.Replace('\\', '/'));
            }

            Write("score.py", ScorePy());
            Write("environment/conda.yaml", YamlWriter.Write(Conda(model)));
            Write("model.yml", YamlWriter.Write(new Dictionary<string, object?>
            {
                ["$schema"] = "https://azuremlschemas.azureedge.net/latest/model.schema.json",
                ["name"] = modelName,
                ["path"] = "model",
                ["type"] = "mlflow_model",
                ["description"] = $"MLflow model exported by MlModels from {model.Name}.",
            }));
            Write("endpoint.yml", YamlWriter.Write(new Dictionary<string, object?>
            {
                ["$schema"] = "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
                ["name"] = options.EndpointName,
                ["auth_mode"] = "key",
            }));
            Write("deployment.yml", YamlWriter.Write(Deployment(options, modelName, scoringScript: false)));
            Write(ScoringScriptDeploymentFile, YamlWriter.Write(Deployment(options, modelName, scoringScript: true)));
            // The scoring-script deployment uploads this folder as its code; the model travels as the model asset.
            Write(".amlignore", "model/\n*.yml\ncreate_service.sh\ndeploy.ps1\n");
            Write("create_service.sh", CreateServiceSh(options), executable: true);
            Write("deploy.ps1", DeployPs1(options, modelName));

            if (Directory.Exists(destination))
            {
                var old = staging + ".old";
                Directory.Move(destination, old);
                Directory.Move(staging, destination);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(staging, destination);
            files.Sort(StringComparer.Ordinal);
            return new AzureMLExport(destination, modelName, options.EndpointName, files);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// The environment from the model's own files: its conda.yaml, else python_env.yaml or requirements.txt laid into one,
    /// plus what Azure ML's inference server needs to run score.py (mlflow and azureml-inference-server-http).
    /// </summary>
    public static Dictionary<string, object?> Conda(MLModel model)
    {
        var env = EnvironmentFiles.Read(model);
        var python = env.PythonVersion ?? "3.10";
        var deps = new List<object?>();
        var pip = new List<string>();
        if (env.Conda != null)
        {
            deps.AddRange(env.Conda.Dependencies.Where(d => !d.Replace(" ", "").StartsWith("python=", StringComparison.Ordinal)
                && !d.Replace(" ", "").StartsWith("python==", StringComparison.Ordinal)));
            pip.AddRange(env.Conda.PipDependencies);
        }
        else if (env.PythonEnv != null)
            pip.AddRange(env.PythonEnv.Dependencies.Where(d => !d.StartsWith("-r ", StringComparison.Ordinal)));
        if (env.Requirements != null && env.Conda == null) pip.AddRange(env.Requirements);
        if (!deps.OfType<string>().Any(d => d == "pip")) deps.Add("pip");
        foreach (var needed in new[] { "mlflow", "azureml-inference-server-http" })
            if (!pip.Any(p => PackageName(p) == needed)) pip.Add(needed);
        deps.Insert(0, "python=" + python);
        deps.Add(new Dictionary<string, object?> { ["pip"] = pip.Distinct().ToList<object?>() });
        return new Dictionary<string, object?>
        {
            ["name"] = env.Conda?.Name ?? "mlflow-env",
            ["channels"] = (env.Conda?.Channels.Count > 0 ? env.Conda.Channels : ["conda-forge"]).ToList<object?>(),
            ["dependencies"] = deps,
        };
    }

    private static string PackageName(string requirement)
    {
        var end = requirement.IndexOfAny(['=', '<', '>', '!', '~', '[', ';', ' ']);
        return (end < 0 ? requirement : requirement[..end]).Trim().ToLowerInvariant().Replace('_', '-');
    }

    private static Dictionary<string, object?> Deployment(AzureMLExportOptions o, string modelName, bool scoringScript)
    {
        var d = new Dictionary<string, object?>
        {
            ["$schema"] = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
            ["name"] = o.DeploymentName,
            ["endpoint_name"] = o.EndpointName,
            ["model"] = $"azureml:{modelName}@latest",
            ["instance_type"] = o.InstanceType,
            ["instance_count"] = o.InstanceCount,
        };
        if (scoringScript)
        {
            d["code_configuration"] = new Dictionary<string, object?> { ["code"] = ".", ["scoring_script"] = "score.py" };
            d["environment"] = new Dictionary<string, object?> { ["image"] = o.Image, ["conda_file"] = "environment/conda.yaml" };
        }
        return d;
    }

    private static string CreateServiceSh(AzureMLExportOptions o) => $$"""
        #!/usr/bin/env bash
        # Deploys this folder to an Azure ML managed online endpoint with the az CLI (ml extension, v2).
        #   ./create_service.sh <resource-group> <workspace> [scoring-script]
        # Without a third argument the model is deployed no-code (Azure ML serves the MLflow model itself);
        # "scoring-script" deploys score.py with environment/conda.yaml instead.
        set -euo pipefail
        cd "$(dirname "$0")"
        rg="${1:?usage: $0 <resource-group> <workspace> [scoring-script]}"
        ws="${2:?usage: $0 <resource-group> <workspace> [scoring-script]}"
        deployment=deployment.yml
        if [ "${3:-}" = scoring-script ]; then deployment={{ScoringScriptDeploymentFile}}; fi

        az ml model create --file model.yml --resource-group "$rg" --workspace-name "$ws"
        if ! az ml online-endpoint show --name {{o.EndpointName}} --resource-group "$rg" --workspace-name "$ws" >/dev/null 2>&1; then
          az ml online-endpoint create --file endpoint.yml --resource-group "$rg" --workspace-name "$ws"
        fi
        az ml online-deployment create --file "$deployment" --resource-group "$rg" --workspace-name "$ws" --all-traffic
        az ml online-endpoint show --name {{o.EndpointName}} --resource-group "$rg" --workspace-name "$ws" --query scoring_uri --output tsv

        """;

    private static string DeployPs1(AzureMLExportOptions o, string modelName) => $$"""
        #Requires -Modules MlModels
        <#
        .SYNOPSIS
            Deploys this folder's model to an Azure ML managed online endpoint with the MlModels module
            (the same steps as create_service.sh, signed in through Connect-AzAccount, az login or a pipeline's service connection).
        .EXAMPLE
            ./deploy.ps1 -ResourceGroupName ml-rg -WorkspaceName ml-ws
        #>
        [CmdletBinding(SupportsShouldProcess)]
        param(
            [Parameter(Mandatory)] [string] $ResourceGroupName,
            [Parameter(Mandatory)] [string] $WorkspaceName,
            [string] $SubscriptionId,
            # Deploys this folder's score.py with environment/conda.yaml instead of no-code (as create_service.sh scoring-script).
            [switch] $ScoringScript
        )
        $publish = @{
            Path              = Join-Path $PSScriptRoot 'model'
            EndpointName      = '{{o.EndpointName}}'
            DeploymentName    = '{{o.DeploymentName}}'
            ModelName         = '{{modelName}}'
            InstanceType      = '{{o.InstanceType}}'
            InstanceCount     = {{o.InstanceCount}}
            ResourceGroupName = $ResourceGroupName
            WorkspaceName     = $WorkspaceName
        }
        if ($SubscriptionId) { $publish.SubscriptionId = $SubscriptionId }
        if ($ScoringScript) { $publish.ScoringScript = $true; $publish.CodePath = $PSScriptRoot }
        Publish-MLModelAzureML @publish -WhatIf:$WhatIfPreference

        """;
}
