using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using k8s.Models;

namespace MlModels.Deploy.Kubernetes;

/// <summary>
/// An API client for the cluster the settings name, resolved as kubectl resolves it, and the namespace to work in; the
/// one place the client's exceptions become <see cref="KubernetesApiException"/> and <see cref="KubernetesConfigException"/>.
/// </summary>
public sealed class KubernetesConnection : IDisposable
{
    private KubernetesConnection(k8s.Kubernetes client, string ns, string where)
    {
        Client = client;
        Namespace = ns;
        Where = where;
    }

    public k8s.Kubernetes Client { get; }

    /// <summary>The namespace the settings give, else the context's, else "default".</summary>
    public string Namespace { get; }

    /// <summary>The cluster as the user would name it: "context 'kind-dev' (/home/me/.kube/config)" or "in-cluster".</summary>
    public string Where { get; }

    public void Dispose() => Client.Dispose();

    public static KubernetesConnection Open(KubernetesTargetSettings settings)
    {
        var (config, where) = Configuration(settings);
        var ns = !string.IsNullOrEmpty(settings.Namespace) ? settings.Namespace
            : string.IsNullOrEmpty(config.Namespace) ? "default" : config.Namespace;
        KubernetesNames.ValidateNamespace(ns);
        var client = settings.Handler == null ? new k8s.Kubernetes(config) : new k8s.Kubernetes(config, settings.Handler());
        return new KubernetesConnection(client, ns, where);
    }

    /// <summary>The kubeconfig files kubectl would read: the explicit path, else each file of KUBECONFIG that exists, else ~/.kube/config.</summary>
    public static IReadOnlyList<string> KubeconfigFiles(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return [Path.GetFullPath(explicitPath)];
        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(env))
            return [.. env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).Select(Path.GetFullPath)];
        var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return File.Exists(home) ? [home] : [];
    }

    /// <summary>The context names of the kubeconfig kubectl would read (for tab completion); none where it cannot be read.</summary>
    public static IReadOnlyList<string> ContextNames(string? explicitPath)
    {
        try
        {
            var files = KubeconfigFiles(explicitPath).Where(File.Exists).ToList();
            return files.Count == 0 ? [] : [.. Load(files).Contexts.Select(c => c.Name)];
        }
        catch (Exception ex) when (ex is KubeConfigException or IOException or YamlDotNet.Core.YamlException) { return []; }
    }

    private static (KubernetesClientConfiguration Config, string Where) Configuration(KubernetesTargetSettings s)
    {
        var files = KubeconfigFiles(s.KubeconfigPath);
        if (s.InCluster || (files.Count == 0 && string.IsNullOrEmpty(s.KubeconfigPath) && KubernetesClientConfiguration.IsInCluster()))
        {
            if (!KubernetesClientConfiguration.IsInCluster())
                throw new KubernetesConfigException(KubernetesConfigProblem.NotInCluster,
                    "This process is not running in a Kubernetes pod (no KUBERNETES_SERVICE_HOST or service account token).", null);
            try { return (KubernetesClientConfiguration.InClusterConfig(), "in-cluster"); }
            catch (KubeConfigException ex)
            {
                throw new KubernetesConfigException(
                    KubernetesConfigProblem.Invalid,
                    "The in-cluster configuration cannot be read: " + ex.Message,
                    null,
                    ex);
            }
        }
        if (files.Count == 0)
            throw new KubernetesConfigException(KubernetesConfigProblem.NotFound,
                "No kubeconfig found: KUBECONFIG names no file that exists and there is no ~/.kube/config.", null);
        foreach (var f in files)
            if (!File.Exists(f)) throw new KubernetesConfigException(KubernetesConfigProblem.NotFound, $"The kubeconfig '{f}' does not exist.", f);
        var shown = string.Join(Path.PathSeparator, files);
        try
        {
            var kubeconfig = Load(files);
            var context = string.IsNullOrEmpty(s.Context) ? kubeconfig.CurrentContext : s.Context;
            if (string.IsNullOrEmpty(context))
                throw new KubernetesConfigException(KubernetesConfigProblem.ContextNotFound,
                    $"The kubeconfig '{shown}' sets no current-context; name a context.", files[0]);
            var known = kubeconfig.Contexts?.Select(c => c.Name).ToList() ?? [];
            if (!known.Contains(context, StringComparer.Ordinal))
                throw new KubernetesConfigException(KubernetesConfigProblem.ContextNotFound,
                    $"The kubeconfig '{shown}' has no context '{context}'" +
                    (known.Count == 0 ? " (it has none)." : $" (it has: {string.Join(", ", known)})."),
                    files[0])
                { Context = context };
            return (KubernetesClientConfiguration.BuildConfigFromConfigObject(kubeconfig, context), $"context '{context}' ({shown})");
        }
        catch (KubeConfigException ex)
        {
            throw new KubernetesConfigException(
                KubernetesConfigProblem.Invalid,
                $"The kubeconfig '{shown}' cannot be used: {ex.Message}",
                files[0],
                ex);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new KubernetesConfigException(
                KubernetesConfigProblem.Invalid,
                $"The kubeconfig '{shown}' is not valid YAML: {ex.Message}",
                files[0],
                ex);
        }
    }

    /// <summary>The files merged as kubectl merges KUBECONFIG: for each name the first file that defines it wins.</summary>
    private static K8SConfiguration Load(IReadOnlyList<string> files)
    {
        var all = files.Select(f => KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(f))).ToList();
        var merged = all[0];
        foreach (var next in all.Skip(1))
        {
            if (string.IsNullOrEmpty(merged.CurrentContext)) merged.CurrentContext = next.CurrentContext;
            merged.Contexts = First(merged.Contexts, next.Contexts, c => c.Name);
            merged.Clusters = First(merged.Clusters, next.Clusters, c => c.Name);
            merged.Users = First(merged.Users, next.Users, u => u.Name);
        }
        return merged;
    }

    private static List<T> First<T>(IEnumerable<T>? a, IEnumerable<T>? b, Func<T, string> name) =>
        [.. (a ?? []).Concat(b ?? []).GroupBy(name, StringComparer.Ordinal).Select(g => g.First())];

    /// <summary>Runs one API call; the API server's refusal becomes <see cref="KubernetesApiException"/> with its Status.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (HttpOperationException ex) { throw ApiError(ex); }
    }

    /// <summary>An object, or null where the API says it is not there (404 NotFound naming it).</summary>
    public static async Task<T?> ReadOrNull<T>(Func<Task<T>> call, string name) where T : class
    {
        try { return await Call(call).ConfigureAwait(false); }
        catch (KubernetesApiException ex) when (ex.StatusCode == 404 && ex.DetailsName == name) { return null; }
    }

    internal static KubernetesApiException ApiError(HttpOperationException ex)
    {
        var code = (int)ex.Response.StatusCode;
        V1Status? status = null;
        try
        {
            if (!string.IsNullOrEmpty(ex.Response.Content)) status = KubernetesJson.Deserialize<V1Status>(ex.Response.Content);
        }
        catch (System.Text.Json.JsonException) { status = null; }
        var message = string.IsNullOrEmpty(status?.Message)
            ? $"The Kubernetes API answered HTTP {code} {ex.Response.ReasonPhrase}."
            : status.Message;
        return new KubernetesApiException(code, status?.Reason, message, ex)
        {
            DetailsName = status?.Details?.Name,
            DetailsKind = status?.Details?.Kind,
        };
    }
}
