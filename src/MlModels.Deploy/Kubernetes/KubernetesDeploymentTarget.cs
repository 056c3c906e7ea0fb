using System.Text.Json;
using k8s;
using k8s.Models;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.Kubernetes;

/// <summary>One object of a plan: its manifest, and the live object of that name where one exists.</summary>
public sealed record KubernetesPlannedObject(object Manifest, string Kind, string Name, object? Existing)
{
    public bool Exists => Existing != null;
}

/// <summary>The target's own plan: the namespace, and per object whether it is created or replaced.</summary>
public sealed record KubernetesPlan(KubernetesDeploymentOptions Options, string Namespace, IReadOnlyList<KubernetesPlannedObject> Objects);

/// <summary>
/// Kubernetes behind <see cref="IDeploymentTarget"/>: a model image as a KServe InferenceService or as a Deployment,
/// Service and HorizontalPodAutoscaler, through the official client. Create refuses objects that exist (409), Replace
/// updates them (PUT with the live resourceVersion); deploying waits until the objects are ready.
/// </summary>
public sealed class KubernetesDeploymentTarget : IDeploymentTarget
{
    public const string TargetName = "kubernetes";
    private readonly KubernetesConnection _connection;
    private readonly HttpMessageHandler? _scoringHandler;

    public KubernetesDeploymentTarget(KubernetesConnection connection, HttpMessageHandler? scoringHandler = null)
    {
        _connection = connection;
        _scoringHandler = scoringHandler;
    }

    public static IDeploymentTarget Create(DeploymentTargetSettings settings) =>
        new KubernetesDeploymentTarget(KubernetesConnection.Open(DeploymentTargetFactory.SettingsAs<KubernetesTargetSettings>(TargetName, settings)));

    public string Name => TargetName;

    /// <summary>The namespace calls go to unless the options name another.</summary>
    public string Namespace => _connection.Namespace;

    /// <summary>The cluster, as the user would name it (context and file, or in-cluster).</summary>
    public string Where => _connection.Where;

    private k8s.Kubernetes Api => _connection.Client;

    public void Dispose() => _connection.Dispose();

    /// <summary>Validates the options, reads each object of that name, and lists the calls the deployment would make.</summary>
    public async Task<DeploymentPlan> PlanAsync(DeploymentOptions options, CancellationToken cancellationToken)
    {
        var o = Options(options);
        var ns = o.Namespace ?? Namespace;
        var manifests = KubernetesManifests.For(o, ns);
        var objects = new List<KubernetesPlannedObject>();
        foreach (var m in manifests)
        {
            var (kind, name) = Identity(m);
            objects.Add(new KubernetesPlannedObject(m, kind, name, await ReadAsync(kind, name, ns, cancellationToken).ConfigureAwait(false)));
        }
        if (o.Mode == KubernetesDeployMode.Create && objects.FirstOrDefault(x => x.Exists) is { } taken)
            throw new KubernetesApiException(409, "AlreadyExists", $"{taken.Kind} '{taken.Name}' already exists in namespace '{ns}'.")
            {
                DetailsName = taken.Name,
                DetailsKind = taken.Kind,
            };
        var calls = objects.Select(x => x.Exists
            ? $"PUT {PathOf(x.Kind, ns, x.Name)} (replace {x.Kind} '{x.Name}', resourceVersion {Meta(x.Existing!).ResourceVersion})"
            : $"POST {PathOf(x.Kind, ns, null)} (create {x.Kind} '{x.Name}')").ToList();
        if (o.Wait) calls.Add($"GET {PathOf(objects[0].Kind, ns, o.Name)} until it is ready (at most {o.Timeout.TotalSeconds:0} s)");
        return new DeploymentPlan(o, calls) { State = new KubernetesPlan(o, ns, objects) };
    }

    public async Task<Deployment> DeployAsync(DeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var p = plan.State as KubernetesPlan ?? throw new ArgumentException("The plan was not made by the kubernetes target.", nameof(plan));
        var ns = p.Namespace;
        foreach (var x in p.Objects)
        {
            progress?.Report(new DeploymentProgress($"Applying {x.Kind} '{x.Name}'", x.Exists ? "Replacing" : "Creating"));
            await ApplyAsync(x, ns, cancellationToken).ConfigureAwait(false);
        }
        var kind = p.Options.Kind;
        if (!p.Options.Wait) return await GetAsync(p.Options.Name, ns, cancellationToken).ConfigureAwait(false) ?? Report(p, ns, "Applied");
        return await LongWait.UntilAsync(
            $"{kind} '{p.Options.Name}' in namespace '{ns}' becoming ready",
            async ct =>
            {
                var d = await GetAsync(p.Options.Name, ns, ct).ConfigureAwait(false);
                var own = d?.Resource as KubernetesDeployment;
                return own is { Ready: true }
                    ? PollResult<Deployment>.Finished(own.Status, d!)
                    : PollResult<Deployment>.Pending(own?.Status ?? "Not found");
            },
            p.Options.PollInterval,
            p.Options.Timeout,
            progress,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<Deployment> CreateAsync(
        DeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken) =>
        await DeployAsync(await PlanAsync(Options(options) with { Mode = KubernetesDeployMode.Create }, cancellationToken).ConfigureAwait(false),
            progress, cancellationToken).ConfigureAwait(false);

    public async Task<Deployment> UpdateAsync(
        DeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken) =>
        await DeployAsync(await PlanAsync(Options(options) with { Mode = KubernetesDeployMode.Replace }, cancellationToken).ConfigureAwait(false),
            progress, cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes every object of that name the module manages; those that are not there are skipped.</summary>
    public async Task<DeploymentRemoval> DeleteAsync(
        DeleteDeploymentOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        var ns = (options as KubernetesDeleteOptions)?.Namespace ?? Namespace;
        KubernetesNames.ValidateName(options.Name);
        KubernetesNames.ValidateNamespace(ns);
        var deleted = new List<string>();
        foreach (var kind in (string[])[InferenceService.ResourceKind, "HorizontalPodAutoscaler", "Service", "Deployment"])
        {
            progress?.Report(new DeploymentProgress($"Deleting '{options.Name}'", kind));
            var existing = await ReadAsync(kind, options.Name, ns, cancellationToken).ConfigureAwait(false);
            if (existing == null || !Managed(Meta(existing))) continue;
            await DeleteOneAsync(kind, options.Name, ns, cancellationToken).ConfigureAwait(false);
            deleted.Add($"{kind}/{options.Name}");
        }
        return new DeploymentRemoval(options.Name, deleted.Count > 0) { Resource = deleted };
    }

    public Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken) => GetAsync(name, Namespace, cancellationToken);

    /// <summary>The InferenceService or Deployment of that name the module manages, or null.</summary>
    public async Task<Deployment?> GetAsync(string name, string ns, CancellationToken cancellationToken)
    {
        if (await ReadAsync(InferenceService.ResourceKind, name, ns, cancellationToken).ConfigureAwait(false) is InferenceService isvc
            && Managed(isvc.Metadata))
            return FromInferenceService(isvc);
        if (await ReadAsync("Deployment", name, ns, cancellationToken).ConfigureAwait(false) is V1Deployment d && Managed(d.Metadata))
            return FromDeployment(d);
        return null;
    }

    public Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) => ListAsync(Namespace, cancellationToken);

    /// <summary>Every InferenceService and Deployment in the namespace labelled as the module's.</summary>
    public async Task<IReadOnlyList<Deployment>> ListAsync(string ns, CancellationToken cancellationToken)
    {
        var found = new List<Deployment>();
        try
        {
            var list = await KubernetesConnection.Call(() => Api.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(
                InferenceService.Group, InferenceService.Version, ns, InferenceService.Plural,
                labelSelector: KubernetesManifests.ManagedSelector, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (list.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
                found.AddRange(
                    items.EnumerateArray().Select(i => FromInferenceService(KubernetesJson.Deserialize<InferenceService>(i.GetRawText()))));
        }
        catch (KubernetesApiException ex) when (ex.StatusCode == 404) { } // KServe is not installed: no InferenceServices
        var deployments = await KubernetesConnection.Call(() => Api.AppsV1.ListNamespacedDeploymentAsync(
            ns, labelSelector: KubernetesManifests.ManagedSelector, cancellationToken: cancellationToken)).ConfigureAwait(false);
        found.AddRange(deployments.Items.Select(FromDeployment));
        return found;
    }

    /// <summary>
    /// Open Inference V2 REST (POST {url}/v2/models/{model}/infer) to the deployment's address: the InferenceService's
    /// status.url, or for a Deployment its Service's in-cluster address, which only a caller inside the cluster reaches.
    /// The body is a V2 inference request; the model name is the container's MLMODELS_MODEL_NAME. A deployment here has one
    /// predictor, so <paramref name="variant"/> is not used.
    /// </summary>
    public async Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, string? variant, CancellationToken cancellationToken)
    {
        var d = await GetAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new KubernetesApiException(404, "NotFound", $"There is no model deployment '{name}' in namespace '{Namespace}'.");
        var own = (KubernetesDeployment)d.Resource!;
        var url = own.Url ?? own.ClusterUrl ?? throw new InvalidOperationException($"'{name}' has no address yet.");
        using var client = new OpenInferenceClient(InvocationsClient.DefaultTimeout, _scoringHandler);
        return await client.InferAsync(url, own.ModelName ?? name, request, cancellationToken).ConfigureAwait(false);
    }

    private async Task ApplyAsync(KubernetesPlannedObject x, string ns, CancellationToken ct)
    {
        var rv = x.Existing == null ? null : Meta(x.Existing).ResourceVersion;
        switch (x.Manifest)
        {
            case InferenceService isvc:
                isvc.Metadata.ResourceVersion = rv;
                try
                {
                    await KubernetesConnection.Call(() => rv == null
                        ? Api.CustomObjects.CreateNamespacedCustomObjectAsync(isvc, InferenceService.Group, InferenceService.Version, ns,
                            InferenceService.Plural, cancellationToken: ct)
                        : Api.CustomObjects.ReplaceNamespacedCustomObjectAsync(isvc, InferenceService.Group, InferenceService.Version, ns,
                            InferenceService.Plural, x.Name, cancellationToken: ct)).ConfigureAwait(false);
                }
                catch (KubernetesApiException ex) when (ex.StatusCode == 404 && ex.DetailsName == null)
                {
                    // A 404 about no object: the API server does not serve the resource type at all.
                    throw new KubernetesApiException(404, "NotFound",
                        $"The cluster does not serve {InferenceService.Plural}.{InferenceService.Group}/{InferenceService.Version}: KServe is not " +
                        "installed. Install KServe, or deploy the model as a plain Deployment.", ex)
                    { DetailsKind = InferenceService.Plural };
                }
                break;
            case V1Deployment d:
                d.Metadata.ResourceVersion = rv;
                // An autoscaler owns the replica count: a replace keeps the count it has set.
                if (x.Existing is V1Deployment live && d.Spec.Replicas != null && live.Spec?.Replicas is { } current
                    && current >= d.Spec.Replicas) d.Spec.Replicas = current;
                await KubernetesConnection.Call(() => rv == null
                    ? Api.AppsV1.CreateNamespacedDeploymentAsync(d, ns, cancellationToken: ct)
                    : Api.AppsV1.ReplaceNamespacedDeploymentAsync(d, x.Name, ns, cancellationToken: ct)).ConfigureAwait(false);
                break;
            case V1Service s:
                s.Metadata.ResourceVersion = rv;
                // The cluster IP is allocated once and cannot change: a replace carries the live one.
                if (x.Existing is V1Service liveService)
                {
                    s.Spec.ClusterIP = liveService.Spec?.ClusterIP;
                    s.Spec.ClusterIPs = liveService.Spec?.ClusterIPs;
                }
                await KubernetesConnection.Call(() => rv == null
                    ? Api.CoreV1.CreateNamespacedServiceAsync(s, ns, cancellationToken: ct)
                    : Api.CoreV1.ReplaceNamespacedServiceAsync(s, x.Name, ns, cancellationToken: ct)).ConfigureAwait(false);
                break;
            case V2HorizontalPodAutoscaler h:
                h.Metadata.ResourceVersion = rv;
                await KubernetesConnection.Call(() => rv == null
                    ? Api.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(h, ns, cancellationToken: ct)
                    : Api.AutoscalingV2.ReplaceNamespacedHorizontalPodAutoscalerAsync(h, x.Name, ns, cancellationToken: ct)).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentException($"No way to apply a {x.Manifest.GetType().Name}.");
        }
    }

    /// <summary>The live object, or null where there is none of that name (or, for an InferenceService, KServe is not installed).</summary>
    private async Task<object?> ReadAsync(string kind, string name, string ns, CancellationToken ct)
    {
        switch (kind)
        {
            case InferenceService.ResourceKind:
                try
                {
                    var e = await KubernetesConnection.Call(() => Api.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(
                        InferenceService.Group, InferenceService.Version, ns, InferenceService.Plural, name, ct)).ConfigureAwait(false);
                    return KubernetesJson.Deserialize<InferenceService>(e.GetRawText());
                }
                catch (KubernetesApiException ex) when (ex.StatusCode == 404) { return null; }
            case "Deployment":
                return await KubernetesConnection.ReadOrNull(() => Api.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct), name)
                    .ConfigureAwait(false);
            case "Service":
                return await KubernetesConnection.ReadOrNull(() => Api.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: ct), name)
                    .ConfigureAwait(false);
            case "HorizontalPodAutoscaler":
                return await KubernetesConnection.ReadOrNull(
                    () => Api.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(name, ns, cancellationToken: ct), name).ConfigureAwait(false);
            default:
                throw new ArgumentException($"Unknown kind {kind}.", nameof(kind));
        }
    }

    private async Task DeleteOneAsync(string kind, string name, string ns, CancellationToken ct)
    {
        try
        {
            switch (kind)
            {
                case InferenceService.ResourceKind:
                    await KubernetesConnection.Call(() => Api.CustomObjects.DeleteNamespacedCustomObjectAsync(
                        InferenceService.Group, InferenceService.Version, ns, InferenceService
                            .Plural, name, cancellationToken: ct)).ConfigureAwait(false);
                    break;
                case "Deployment":
                    await KubernetesConnection.Call(() => Api.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, cancellationToken: ct))
                        .ConfigureAwait(false);
                    break;
                case "Service":
                    await KubernetesConnection.Call(() => Api.CoreV1.DeleteNamespacedServiceAsync(name, ns, cancellationToken: ct))
                        .ConfigureAwait(false);
                    break;
                default:
                    await KubernetesConnection.Call(
                        () => Api.AutoscalingV2.DeleteNamespacedHorizontalPodAutoscalerAsync(name, ns, cancellationToken: ct))
                        .ConfigureAwait(false);
                    break;
            }
        }
        catch (KubernetesApiException ex) when (ex.StatusCode == 404) { } // gone meanwhile
    }

    private static Deployment FromInferenceService(InferenceService isvc)
    {
        var ready = isvc.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var isReady = ready?.Status == "True";
        var status = isReady
            ? "Ready"
            : ready == null ? "Pending" : string.Join(": ", new[] { ready.Reason, ready.Message }.Where(s => !string.IsNullOrEmpty(s)));
        if (string.IsNullOrEmpty(status)) status = "NotReady";
        var container = isvc.Spec.Predictor.Containers.FirstOrDefault();
        var url = Uri.TryCreate(isvc.Status?.Url, UriKind.Absolute, out var u) ? u : null;
        var own = new KubernetesDeployment(isvc.Metadata.Name, isvc.Metadata.NamespaceProperty, KubernetesWorkloadKind.InferenceService,
            container?.Image, isReady, status)
        {
            Url = url,
            ModelName = ModelNameOf(container),
            Objects = [$"{InferenceService.ResourceKind}/{isvc.Metadata.Name}"],
        };
        return new Deployment(own.Name, TargetName, status, url) { Resource = own };
    }

    private static Deployment FromDeployment(V1Deployment d)
    {
        var want = d.Spec?.Replicas ?? 1;
        var st = d.Status;
        var available = st?.AvailableReplicas ?? 0;
        var ready = (st?.ObservedGeneration ?? 0) >= (d.Metadata.Generation ?? 0) && (st?.UpdatedReplicas ?? 0) >= want && available >= want;
        var status = $"{available}/{want} available";
        var container = d.Spec?.Template?.Spec?.Containers?.FirstOrDefault();
        var own = new KubernetesDeployment(d.Metadata.Name, d.Metadata.NamespaceProperty, KubernetesWorkloadKind.Deployment, container?.Image, ready,
            status)
        {
            ClusterUrl = KubernetesManifests.ClusterUrl(d.Metadata.Name, d.Metadata.NamespaceProperty),
            ModelName = ModelNameOf(container),
            Objects = [$"Deployment/{d.Metadata.Name}", $"Service/{d.Metadata.Name}"],
        };
        return new Deployment(own.Name, TargetName, status, own.ClusterUrl) { Resource = own };
    }

    private static Deployment Report(KubernetesPlan p, string ns, string status)
    {
        var own = new KubernetesDeployment(p.Options.Name, ns, p.Options.Kind, p.Options.Image, false, status)
        {
            ModelName = p.Options.EffectiveModelName,
            Objects = [.. p.Objects.Select(x => $"{x.Kind}/{x.Name}")],
        };
        return new Deployment(own.Name, TargetName, status, null) { Resource = own };
    }

    private static string? ModelNameOf(V1Container? c) => c?.Env?.FirstOrDefault(e => e.Name == KubernetesManifests.ModelNameVariable)?.Value;

    private static bool Managed(V1ObjectMeta? m) =>
        m?.Labels != null && m.Labels.TryGetValue(KubernetesManifests.ManagedByLabel, out var v) && v == KubernetesManifests.ManagedBy;

    private static V1ObjectMeta Meta(object o) => o switch
    {
        InferenceService i => i.Metadata,
        IMetadata<V1ObjectMeta> m => m.Metadata,
        _ => throw new ArgumentException($"{o.GetType().Name} has no metadata."),
    };

    private static (string Kind, string Name) Identity(object manifest) => manifest switch
    {
        InferenceService i => (InferenceService.ResourceKind, i.Metadata.Name),
        V1Deployment d => ("Deployment", d.Metadata.Name),
        V1Service s => ("Service", s.Metadata.Name),
        V2HorizontalPodAutoscaler h => ("HorizontalPodAutoscaler", h.Metadata.Name),
        _ => throw new ArgumentException($"Unknown manifest {manifest.GetType().Name}."),
    };

    /// <summary>The REST path of a kind's collection (name null) or of one object, as -WhatIf shows it.</summary>
    public static string PathOf(string kind, string ns, string? name)
    {
        var collection = kind switch
        {
            InferenceService.ResourceKind => $"/apis/{InferenceService.Group}/{InferenceService.Version}/namespaces/{ns}/{InferenceService.Plural}",
            "Deployment" => $"/apis/apps/v1/namespaces/{ns}/deployments",
            "Service" => $"/api/v1/namespaces/{ns}/services",
            "HorizontalPodAutoscaler" => $"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
            _ => throw new ArgumentException($"Unknown kind {kind}.", nameof(kind)),
        };
        return name == null ? collection : $"{collection}/{name}";
    }

    private static KubernetesDeploymentOptions Options(DeploymentOptions options) => options as KubernetesDeploymentOptions
        ?? throw new ArgumentException($"The kubernetes target takes {nameof(KubernetesDeploymentOptions)}.", nameof(options));
}
