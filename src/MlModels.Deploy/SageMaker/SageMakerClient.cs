using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>The SageMaker operations this module uses, each a typed JSON 1.1 call.</summary>
public sealed class SageMakerClient(AwsConnection connection)
{
    private readonly AwsJsonClient _json = new(connection, AwsService.SageMaker);

    public AwsJsonClient Json => _json;

    private static SageMakerJson Ctx => SageMakerJson.Default;

    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest r, CancellationToken ct) =>
        _json.CallAsync("CreateModel", r, Ctx.CreateModelRequest, Ctx.CreateModelResponse, r.ModelName, ct);

    public Task<DescribeModelResponse> DescribeModelAsync(string name, CancellationToken ct) =>
        _json.CallAsync("DescribeModel", new DescribeModelRequest(name), Ctx.DescribeModelRequest, Ctx.DescribeModelResponse, name, ct);

    public Task DeleteModelAsync(string name, CancellationToken ct) =>
        _json.CallAsync("DeleteModel", new DeleteModelRequest(name), Ctx.DeleteModelRequest, Ctx.EmptyResponse, name, ct);

    public Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest r, CancellationToken ct) =>
        _json.CallAsync("CreateEndpointConfig", r, Ctx.CreateEndpointConfigRequest, Ctx.CreateEndpointConfigResponse, r.EndpointConfigName, ct);

    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(string name, CancellationToken ct) =>
        _json.CallAsync(
            "DescribeEndpointConfig",
            new DescribeEndpointConfigRequest(name),
            Ctx.DescribeEndpointConfigRequest,
            Ctx.DescribeEndpointConfigResponse,
            name,
            ct);

    public Task DeleteEndpointConfigAsync(string name, CancellationToken ct) =>
        _json.CallAsync("DeleteEndpointConfig", new DeleteEndpointConfigRequest(name), Ctx.DeleteEndpointConfigRequest, Ctx.EmptyResponse, name, ct);

    public Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest r, CancellationToken ct) =>
        _json.CallAsync("CreateEndpoint", r, Ctx.CreateEndpointRequest, Ctx.CreateEndpointResponse, r.EndpointName, ct);

    public Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest r, CancellationToken ct) =>
        _json.CallAsync("UpdateEndpoint", r, Ctx.UpdateEndpointRequest, Ctx.UpdateEndpointResponse, r.EndpointName, ct);

    public Task<DescribeEndpointResponse> DescribeEndpointAsync(string name, CancellationToken ct) =>
        _json.CallAsync("DescribeEndpoint", new DescribeEndpointRequest(name), Ctx.DescribeEndpointRequest, Ctx.DescribeEndpointResponse, name, ct);

    public Task DeleteEndpointAsync(string name, CancellationToken ct) =>
        _json.CallAsync("DeleteEndpoint", new DeleteEndpointRequest(name), Ctx.DeleteEndpointRequest, Ctx.EmptyResponse, name, ct);

    /// <summary>Every endpoint whose name contains <paramref name="nameContains"/> (all pages).</summary>
    public async Task<List<EndpointSummary>> ListEndpointsAsync(string? nameContains, CancellationToken ct)
    {
        var all = new List<EndpointSummary>();
        string? token = null;
        do
        {
            var page = await _json.CallAsync(
                "ListEndpoints",
                new ListEndpointsRequest { NameContains = nameContains, MaxResults = 100, NextToken = token },
                Ctx.ListEndpointsRequest,
                Ctx.ListEndpointsResponse,
                nameContains,
                ct).ConfigureAwait(false);
            all.AddRange(page.Endpoints ?? []);
            token = page.NextToken;
        } while (!string.IsNullOrEmpty(token));
        return all;
    }

    /// <summary>The endpoint of exactly this name, or null (MLflow's _find_endpoint: a listing, not an error to catch).</summary>
    public async Task<EndpointSummary?> FindEndpointAsync(string name, CancellationToken ct) =>
        (await ListEndpointsAsync(name, ct).ConfigureAwait(false)).FirstOrDefault(e => e.EndpointName == name);

    public Task<CreateTransformJobResponse> CreateTransformJobAsync(CreateTransformJobRequest r, CancellationToken ct) =>
        _json.CallAsync("CreateTransformJob", r, Ctx.CreateTransformJobRequest, Ctx.CreateTransformJobResponse, r.TransformJobName, ct);

    public Task<DescribeTransformJobResponse> DescribeTransformJobAsync(string name, CancellationToken ct) =>
        _json.CallAsync(
            "DescribeTransformJob",
            new DescribeTransformJobRequest(name),
            Ctx.DescribeTransformJobRequest,
            Ctx.DescribeTransformJobResponse,
            name,
            ct);

    public Task StopTransformJobAsync(string name, CancellationToken ct) =>
        _json.CallAsync("StopTransformJob", new StopTransformJobRequest(name), Ctx.StopTransformJobRequest, Ctx.EmptyResponse, name, ct);

    public async Task<List<TransformJobSummary>> ListTransformJobsAsync(string? nameContains, CancellationToken ct)
    {
        var all = new List<TransformJobSummary>();
        string? token = null;
        do
        {
            var page = await _json.CallAsync(
                "ListTransformJobs",
                new ListTransformJobsRequest { NameContains = nameContains, MaxResults = 100, NextToken = token },
                Ctx.ListTransformJobsRequest,
                Ctx.ListTransformJobsResponse,
                nameContains,
                ct).ConfigureAwait(false);
            all.AddRange(page.TransformJobSummaries ?? []);
            token = page.NextToken;
        } while (!string.IsNullOrEmpty(token));
        return all;
    }
}

/// <summary>The ECR operations used to find or create a repository and log in to its registry.</summary>
public sealed class EcrClient(AwsConnection connection)
{
    private readonly AwsJsonClient _json = new(connection, AwsService.Ecr);

    private static EcrJson Ctx => EcrJson.Default;

    /// <summary>The repository, or null when ECR answers RepositoryNotFoundException.</summary>
    public async Task<Repository?> FindRepositoryAsync(string name, CancellationToken ct)
    {
        try
        {
            var r = await _json.CallAsync(
                "DescribeRepositories",
                new DescribeRepositoriesRequest([name]),
                Ctx.DescribeRepositoriesRequest,
                Ctx.DescribeRepositoriesResponse,
                name,
                ct).ConfigureAwait(false);
            return r.Repositories?.FirstOrDefault(x => x.RepositoryName == name);
        }
        catch (AwsServiceException ex) when (ex.ErrorCode == "RepositoryNotFoundException") { return null; }
    }

    public async Task<Repository> CreateRepositoryAsync(string name, CancellationToken ct) =>
        (await _json.CallAsync(
            "CreateRepository",
            new CreateRepositoryRequest(name),
            Ctx.CreateRepositoryRequest,
            Ctx.CreateRepositoryResponse,
            name,
            ct).ConfigureAwait(false)).Repository
        ?? throw new InvalidDataException($"ECR CreateRepository for '{name}' answered without a repository.");

    public async Task<AuthorizationData> GetAuthorizationTokenAsync(CancellationToken ct) =>
        (await _json.CallAsync(
            "GetAuthorizationToken",
            new GetAuthorizationTokenRequest(),
            Ctx.GetAuthorizationTokenRequest,
            Ctx.GetAuthorizationTokenResponse,
            null,
            ct).ConfigureAwait(false))
        .AuthorizationData?.FirstOrDefault() ?? throw new InvalidDataException("ECR GetAuthorizationToken answered without authorization data.");
}
