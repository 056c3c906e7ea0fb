using MlModels.Core.Format;

namespace MlModels.Deploy.Kubernetes;

/// <summary>A manifest file written: where, which kind of workload, and its objects as Kind/name.</summary>
public sealed record KubernetesExport(string Path, string Namespace, KubernetesWorkloadKind Kind, IReadOnlyList<string> Objects);

/// <summary>Writes the manifests for <c>kubectl apply -f</c>, whole or not at all.</summary>
public static class KubernetesExporter
{
    /// <summary>The YAML of the objects, validated as a deployment would validate them.</summary>
    public static string Yaml(KubernetesDeploymentOptions options, string ns) => KubernetesManifests.ToYaml(KubernetesManifests.For(options, ns));

    /// <summary>
    /// Writes the manifests to <paramref name="path"/> through a temporary file beside it, renamed into place, so a reader
    /// never sees half a file; an existing file is replaced only with <paramref name="force"/>.
    /// </summary>
    public static KubernetesExport Export(KubernetesDeploymentOptions options, string ns, string path, bool force)
    {
        var objects = KubernetesManifests.For(options, ns);
        var yaml = KubernetesManifests.ToYaml(objects);
        if (Directory.Exists(path)) throw new TargetExistsException($"'{path}' is a folder.", path);
        if (File.Exists(path) && !force) throw new TargetExistsException($"The file '{path}' exists.", path);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, yaml, new System.Text.UTF8Encoding(false));
            File.Move(temp, path, overwrite: force);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return new KubernetesExport(path, ns, options.Kind, Describe(objects));
    }

    /// <summary>The objects as Kind/name.</summary>
    public static IReadOnlyList<string> Describe(IEnumerable<object> objects) => [.. objects.Select(Describe)];

    private static string Describe(object o) => o switch
    {
        InferenceService i => $"{InferenceService.ResourceKind}/{i.Metadata.Name}",
        k8s.Models.V1Deployment d => $"Deployment/{d.Metadata.Name}",
        k8s.Models.V1Service s => $"Service/{s.Metadata.Name}",
        k8s.Models.V2HorizontalPodAutoscaler h => $"HorizontalPodAutoscaler/{h.Metadata.Name}",
        _ => o.GetType().Name,
    };
}
