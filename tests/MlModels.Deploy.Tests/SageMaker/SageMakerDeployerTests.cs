using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.S3.Model;
using MlModels.Core.Tests;
using MlModels.Deploy.Aws;
using MlModels.Deploy.SageMaker;
using MlModels.Deploy.Tests.Aws;

namespace MlModels.Deploy.Tests.SageMaker;

[Collection("moto")]
[Trait("Category", "Cloud")]
public class SageMakerDeployerTests(MotoServer moto)
{
    private const string Role = "arn:aws:iam::123456789012:role/sagemaker-execution";
    private const string Image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:2.12.2";
    private static readonly string PyfuncModel = Path.Combine(TestPaths.Examples, "pyfunc-custom");

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private static SageMakerDeployOptions Options(string app, SageMakerDeployMode mode = SageMakerDeployMode.Create, string? bucket = null) => new()
    {
        AppName = app, ModelPath = PyfuncModel, Mode = mode, ExecutionRoleArn = Role, ImageUrl = Image, Bucket = bucket,
        PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(30),
    };

    private static async Task<SageMakerDeployment> DeployAsync(MotoSession s, SageMakerDeployOptions o)
    {
        var d = new SageMakerDeployer(s.Connection);
        return await d.DeployAsync(await d.PlanAsync(o, CancellationToken.None), null, CancellationToken.None);
    }

    [SkippableFact]
    public async Task Create_UploadsModelTarGzAndCreatesModelConfigAndEndpoint_AsMLflowNamesThem()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("create");
        var deployment = await DeployAsync(s, Options(app));

        Assert.Equal("InService", deployment.Status);
        Assert.Equal(app, deployment.Name);
        var variant = Assert.Single(deployment.Variants);
        Assert.Matches($"^{app}-model-[0-9a-f]{{20}}$", variant.ModelName);
        Assert.Equal(variant.ModelName, variant.VariantName);
        Assert.Equal("ml.m4.xlarge", variant.InstanceType);
        Assert.Matches($"^{app}-config-[0-9a-f]{{20}}$", deployment.EndpointConfigName);

        var sm = new SageMakerClient(s.Connection);
        var model = await sm.DescribeModelAsync(variant.ModelName!, CancellationToken.None);
        Assert.Equal(Image, model.PrimaryContainer!.Image);
        Assert.Equal("python_function", model.PrimaryContainer.Environment!["MLFLOW_DEPLOYMENT_FLAVOR_NAME"]);
        Assert.Equal("SageMaker", model.PrimaryContainer.Environment["SERVING_ENVIRONMENT"]);
        Assert.Equal($"s3://mlflow-sagemaker-us-east-1-123456789012/{variant.ModelName}/model.tar.gz", model.PrimaryContainer.ModelDataUrl);

        // model.tar.gz holds the model folder's entries at its root, as SageMaker unpacks it into /opt/ml/model.
        using var store = new ModelDataStore(s.Connection);
        using var obj = await store.S3.GetObjectAsync("mlflow-sagemaker-us-east-1-123456789012", $"{variant.ModelName}/model.tar.gz");
        var names = new List<string>();
        using (var gz = new GZipStream(obj.ResponseStream, CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
            while (tar.GetNextEntry() is { } e) names.Add(e.Name);
        Assert.Contains("MLmodel", names);
        Assert.Contains("conda.yaml", names);
        Assert.DoesNotContain(names, n => n.StartsWith("pyfunc-custom", StringComparison.Ordinal) || n.StartsWith('/'));
        var tags = await store.S3.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = "mlflow-sagemaker-us-east-1-123456789012", Key = $"{variant.ModelName}/model.tar.gz" });
        Assert.Contains(tags.Tagging, t => t.Key == "SageMaker" && t.Value == "true");

        s.AssertShapesValid();
        var calls = s.Validator.Calls.ToList();
        Assert.Equal(["SageMaker.CreateModel", "SageMaker.CreateEndpointConfig", "SageMaker.CreateEndpoint"],
            calls.Where(c => c.StartsWith("SageMaker.Create", StringComparison.Ordinal)).ToList());
        Assert.Contains("STS.GetCallerIdentity", calls);
    }

    [SkippableFact]
    public async Task AModelAlreadyInS3_IsReadInPlace_NothingPackedOrUploaded()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("inplace");
        const string folder = "s3://team-models/mlartifacts/1/5d1f0c0e6b4a4f8e9a3b2c1d0e9f8a01/artifacts/model";
        var o = Options(app) with { ModelDataS3Uri = folder };
        var d = new SageMakerDeployer(s.Connection);
        var plan = await d.PlanAsync(o, CancellationToken.None);
        Assert.DoesNotContain(plan.Calls, c => c.Service == "S3");
        Assert.Contains(plan.Calls, c => c.Operation == "CreateModel" && c.Target.Contains("read in place from " + folder + "/", StringComparison.Ordinal));
        var deployment = await d.DeployAsync(plan, null, CancellationToken.None);

        Assert.Equal("InService", deployment.Status);
        var model = await new SageMakerClient(s.Connection).DescribeModelAsync(Assert.Single(deployment.Variants).ModelName!, CancellationToken.None);
        Assert.Null(model.PrimaryContainer!.ModelDataUrl);
        Assert.Equal(new S3ModelDataSource(folder + "/", "S3Prefix", "None"), model.PrimaryContainer.ModelDataSource!.S3DataSource);
        // The request matched SageMaker's service model, and no object was written anywhere.
        s.AssertShapesValid();
        Assert.DoesNotContain(s.Validator.Calls, c => c.Contains("PutObject", StringComparison.Ordinal) || c.Contains("Multipart", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Replace_SwitchesTheEndpointToTheNewModel_AndDeletesTheOldOnes_UnlessArchived()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("replace");
        var first = await DeployAsync(s, Options(app));
        var oldModel = first.Variants[0].ModelName!;
        var second = await DeployAsync(s, Options(app, SageMakerDeployMode.Replace));

        Assert.NotEqual(first.EndpointConfigName, second.EndpointConfigName);
        var variant = Assert.Single(second.Variants);
        Assert.NotEqual(oldModel, variant.ModelName);
        Assert.Equal(1f, variant.Weight);
        Assert.Contains($"model {oldModel}", second.CleanedUp);
        Assert.Contains($"endpoint configuration {first.EndpointConfigName}", second.CleanedUp);
        var sm = new SageMakerClient(s.Connection);
        var gone = await Assert.ThrowsAsync<AwsServiceException>(() => sm.DescribeModelAsync(oldModel, CancellationToken.None));
        Assert.Equal("DescribeModel", gone.Operation);
        Assert.Equal(oldModel, gone.Resource);

        var third = await DeployAsync(s, Options(app, SageMakerDeployMode.Replace) with { Archive = true });
        Assert.Empty(third.CleanedUp);
        Assert.Contains($"model {variant.ModelName}", third.Archived);
        Assert.NotNull(await sm.DescribeModelAsync(variant.ModelName!, CancellationToken.None));
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task Add_AppendsTheNewModelAsAVariantWithWeightZero()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("add");
        var first = await DeployAsync(s, Options(app));
        var added = await DeployAsync(s, Options(app, SageMakerDeployMode.Add) with { VariantName = "challenger" });

        Assert.Equal(2, added.Variants.Count);
        Assert.Equal(first.Variants[0].ModelName, added.Variants[0].ModelName);
        Assert.Equal("challenger", added.Variants[1].VariantName);
        Assert.Equal(0f, added.Variants[1].Weight);
        // Add keeps the serving model and drops only the replaced configuration.
        Assert.Equal([$"endpoint configuration {first.EndpointConfigName}"], added.CleanedUp);
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task Mode_IsCheckedAgainstTheEndpoint_BeforeAnythingIsMade()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("modes");
        var d = new SageMakerDeployer(s.Connection);
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => d.PlanAsync(Options(app, SageMakerDeployMode.Replace), CancellationToken.None));
        Assert.Contains($"no endpoint named '{app}'", missing.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => d.PlanAsync(Options(app, SageMakerDeployMode.Add), CancellationToken.None));

        await DeployAsync(s, Options(app));
        var calls = s.Validator.Calls.Count;
        var exists = await Assert.ThrowsAsync<InvalidOperationException>(() => d.PlanAsync(Options(app), CancellationToken.None));
        Assert.Contains("already exists", exists.Message);
        Assert.DoesNotContain(s.Validator.Calls.Skip(calls), c => c.Contains("Create", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [InlineData("an-app-name-that-is-far-too-long-for-sagemaker-to-accept-as-an-endpoint", "at most 63")]
    [InlineData("under_score", "characters SageMaker refuses")]
    [InlineData("-leading", "characters SageMaker refuses")]
    public async Task BadAppName_IsRefusedBeforeAnyCall(string app, string expected)
    {
        using var s = new MotoSession(moto.Require());
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new SageMakerDeployer(s.Connection).PlanAsync(Options(app), CancellationToken.None));
        Assert.Contains(expected, ex.Message);
        Assert.Empty(s.Validator.Calls);
    }

    [SkippableFact]
    public async Task BadRoleArn_AndModelWithoutServableFlavor_AreRefusedBeforeAnyCall()
    {
        using var s = new MotoSession(moto.Require());
        var d = new SageMakerDeployer(s.Connection);
        var role = await Assert.ThrowsAsync<ArgumentException>(() => d.PlanAsync(Options("app") with { ExecutionRoleArn = "sagemaker-role" }, CancellationToken.None));
        Assert.Contains("'sagemaker-role' is not an IAM role ARN", role.Message);
        var onnxOnly = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(onnxOnly, "MLmodel"), "flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.10.0\n");
        var flavor = await Assert.ThrowsAsync<ArgumentException>(() => d.PlanAsync(Options("app") with { ModelPath = onnxOnly }, CancellationToken.None));
        Assert.Contains("no flavor the serving image can serve (it has: onnx;", flavor.Message);
        Assert.Empty(s.Validator.Calls);
    }

    [SkippableFact]
    public async Task Throttling_IsRetriedWithBackoff_ThenSucceeds()
    {
        using var s = new MotoSession(moto.Require());
        var throttled = 0;
        s.Faults.Intercept = call => call.Operation == "CreateModel" && throttled++ < 2
            ? Task.FromResult(FaultInjector.Error(HttpStatusCode.BadRequest, "ThrottlingException", "Rate exceeded"))
            : call.Next();
        var deployment = await DeployAsync(s, Options(Unique("throttle")));
        Assert.Equal("InService", deployment.Status);
        Assert.Equal(3, throttled);
        Assert.Equal(3, s.Validator.Calls.Count(c => c == "SageMaker.CreateModel"));
    }

    [SkippableFact]
    public async Task ServerErrors_PastTheRetryLimit_NameTheOperationAndResource()
    {
        using var s = new MotoSession(moto.Require());
        s.Faults.Intercept = call => call.Operation == "DescribeEndpoint"
            ? Task.FromResult(FaultInjector.Error(HttpStatusCode.InternalServerError, "com.amazonaws.sagemaker#InternalFailure", "try later"))
            : call.Next();
        var ex = await Assert.ThrowsAsync<AwsServiceException>(() => new SageMakerClient(s.Connection).DescribeEndpointAsync("ep-x", CancellationToken.None));
        Assert.Equal(("DescribeEndpoint", "ep-x", "InternalFailure"), (ex.Operation, ex.Resource, ex.ErrorCode));
        Assert.Contains("SageMaker DescribeEndpoint on 'ep-x' failed: InternalFailure: try later", ex.Message);
        Assert.Equal(4, s.Validator.Calls.Count);
    }

    [SkippableFact]
    public async Task EndpointEndingFailed_RollsBackEverythingThisCallMade()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("failed");
        var bucket = Unique("bucket-failed");
        s.Faults.Intercept = async call =>
        {
            if (call.Operation != "DescribeEndpoint" || (string?)call.Request!["EndpointName"] != app) return await call.Next();
            var answer = await FaultInjector.AnswerOf(call);
            answer["EndpointStatus"] = "Failed";
            answer["FailureReason"] = "The primary container did not pass the ping health check.";
            return FaultInjector.Json(answer);
        };
        var ex = await Assert.ThrowsAsync<SageMakerDeploymentException>(() => DeployAsync(s, Options(app, bucket: bucket)));
        Assert.Contains("ping health check", ex.Message);
        Assert.Empty(ex.Remaining);
        Assert.Contains($"endpoint {app}", ex.RolledBack);
        Assert.Contains($"bucket {bucket}", ex.RolledBack);
        await AssertNothingLeftAsync(s, app, bucket);
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task Timeout_WhileCreating_RollsBackAndSaysSo()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("timeout");
        var bucket = Unique("bucket-timeout");
        s.Faults.Intercept = StuckCreating(app);
        var ex = await Assert.ThrowsAsync<SageMakerDeploymentException>(() => DeployAsync(s, Options(app, bucket: bucket) with { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Contains("did not finish within", ex.Message);
        Assert.Contains("Rolled back:", ex.Message);
        await AssertNothingLeftAsync(s, app, bucket);
    }

    [SkippableFact]
    public async Task Cancellation_WhileWaiting_RollsBackAndSaysWhatWasDeleted()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("cancel");
        var bucket = Unique("bucket-cancel");
        using var cts = new CancellationTokenSource();
        var stuck = StuckCreating(app);
        s.Faults.Intercept = async call =>
        {
            var r = await stuck(call);
            if (call.Operation == "DescribeEndpoint") cts.Cancel();
            return r;
        };
        var d = new SageMakerDeployer(s.Connection);
        var plan = await d.PlanAsync(Options(app, bucket: bucket), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<SageMakerDeploymentException>(() => d.DeployAsync(plan, null, cts.Token));
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        Assert.Contains("was cancelled", ex.Message);
        Assert.Contains($"endpoint {app}", ex.RolledBack);
        await AssertNothingLeftAsync(s, app, bucket);
    }

    [SkippableFact]
    public async Task ReplaceThatFails_KeepsTheOldConfigurationServing_AndDeletesTheNewResources()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("replfail");
        var first = await DeployAsync(s, Options(app));
        var fail = false;
        s.Faults.Intercept = async call =>
        {
            if (call.Operation == "UpdateEndpoint") fail = true;
            if (!fail || call.Operation != "DescribeEndpoint") return await call.Next();
            var answer = await FaultInjector.AnswerOf(call);
            answer["EndpointStatus"] = "Failed";
            answer["FailureReason"] = "Model download failed.";
            return FaultInjector.Json(answer);
        };
        var ex = await Assert.ThrowsAsync<SageMakerDeploymentException>(() => DeployAsync(s, Options(app, SageMakerDeployMode.Replace)));
        Assert.Contains($"keeps its previous configuration '{first.EndpointConfigName}'", ex.Message);
        Assert.Contains(ex.RolledBack, r => r.StartsWith("model " + app, StringComparison.Ordinal));
        Assert.Contains(ex.RolledBack, r => r.StartsWith("endpoint configuration " + app, StringComparison.Ordinal));
        s.Faults.Intercept = null;
        var sm = new SageMakerClient(s.Connection);
        // The old model and configuration were not touched.
        Assert.NotNull(await sm.DescribeEndpointConfigAsync(first.EndpointConfigName!, CancellationToken.None));
        Assert.NotNull(await sm.DescribeModelAsync(first.Variants[0].ModelName!, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Remove_DeletesTheEndpointItsConfigurationModelsAndOptionallyTheirData()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("remove");
        var bucket = Unique("bucket-remove");
        var deployment = await DeployAsync(s, Options(app, bucket: bucket));
        var d = new SageMakerDeployer(s.Connection);
        var removal = await d.RemoveAsync(app, archive: false, includeModelData: true, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20), null, CancellationToken.None);
        Assert.Contains($"endpoint {app}", removal.Deleted);
        Assert.Contains($"endpoint configuration {deployment.EndpointConfigName}", removal.Deleted);
        Assert.Contains($"model {deployment.Variants[0].ModelName}", removal.Deleted);
        Assert.Contains(removal.Deleted, x => x.StartsWith($"model data s3://{bucket}/", StringComparison.Ordinal));
        Assert.Null(await d.GetAsync(app, CancellationToken.None));
        using var store = new ModelDataStore(s.Connection);
        Assert.False(await store.ObjectExistsAsync($"s3://{bucket}/{deployment.Variants[0].ModelName}/model.tar.gz", CancellationToken.None));
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task InvokeEndpoint_SendsTheBodyToTheEndpointsRoute_AndReturnsItsAnswer()
    {
        using var s = new MotoSession(moto.Require());
        var app = Unique("invoke");
        await DeployAsync(s, Options(app));
        var body = """{"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}"""u8.ToArray();
        var answer = await new SageMakerRuntimeClient(s.Connection).InvokeAsync(app, new PredictionRequest(body, "application/json"), "application/json", null, CancellationToken.None);
        Assert.Equal(200, answer.StatusCode);
        Assert.NotEqual(0, answer.Body.Length);
        Assert.Contains("SageMakerRuntime.InvokeEndpoint", s.Validator.Calls);
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task TransformJob_RunsOverS3_ThenCleansUpItsModel_AndCanBeListedAndStopped()
    {
        using var s = new MotoSession(moto.Require());
        var job = Unique("transform");
        var bucket = Unique("bucket-transform");
        var t = new SageMakerTransforms(s.Connection);
        var options = new SageMakerTransformOptions
        {
            JobName = job, ModelPath = PyfuncModel, InputUri = $"s3://{bucket}/input/", OutputUri = $"s3://{bucket}/output/", ExecutionRoleArn = Role,
            ImageUrl = Image, Bucket = bucket, Wait = true, PollInterval = TimeSpan.FromMilliseconds(20), InstanceCount = 2,
        };
        var (plan, calls) = await t.PlanAsync(options, CancellationToken.None);
        Assert.Contains(calls, c => c.Operation == "CreateTransformJob");
        var result = await t.StartAsync(options, plan, null, CancellationToken.None);
        Assert.Equal("Completed", result.Status);
        Assert.Equal(2, result.InstanceCount);
        Assert.Contains($"model {plan.ModelName}", result.CleanedUp);
        Assert.Contains(await t.ListAsync(job, CancellationToken.None), j => j.JobName == job);
        await t.StopAsync(job, CancellationToken.None);
        // As SageMaker documents it: Stopping first, then Stopped.
        Assert.Equal("Stopping", (await t.GetAsync(job, CancellationToken.None))!.Status);
        Assert.Equal("Stopped", (await t.GetAsync(job, CancellationToken.None))!.Status);
        s.AssertShapesValid();
    }

    [SkippableFact]
    public async Task TerminateTransformJob_StopsIt_ThenDeletesItsModelAndData_UnlessArchived()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = Unique("bucket-terminate");
        var t = new SageMakerTransforms(s.Connection);
        var wait = (Timeout: TimeSpan.FromSeconds(30), Poll: TimeSpan.FromMilliseconds(20));
        async Task<(string Job, SageMakerDeploymentPlan Plan)> StartKeepingTheModelAsync()
        {
            var options = new SageMakerTransformOptions
            {
                JobName = Unique("terminate"), ModelPath = PyfuncModel, InputUri = $"s3://{bucket}/input/", OutputUri = $"s3://{bucket}/output/",
                ExecutionRoleArn = Role, ImageUrl = Image, Bucket = bucket, Archive = true,
            };
            var (plan, _) = await t.PlanAsync(options, CancellationToken.None);
            await t.StartAsync(options, plan, null, CancellationToken.None);
            return (options.JobName, plan);
        }
        using var store = new ModelDataStore(s.Connection);

        var (kept, keptPlan) = await StartKeepingTheModelAsync();
        var archived = await t.TerminateAsync(kept, archive: true, wait: true, wait.Timeout, wait.Poll, null, CancellationToken.None);
        Assert.Equal("Stopped", archived.Status);
        Assert.Empty(archived.CleanedUp);
        Assert.Equal([keptPlan.ModelName], await ListNamesAsync(s, "ListModels", "Models", "ModelName", keptPlan.ModelName));
        Assert.True(await store.ObjectExistsAsync(keptPlan.ModelDataUrl, CancellationToken.None));

        var (gone, gonePlan) = await StartKeepingTheModelAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => t.TerminateAsync(gone, archive: false, wait: false, wait.Timeout, wait.Poll, null, CancellationToken.None));
        var terminated = await t.TerminateAsync(gone, archive: false, wait: true, wait.Timeout, wait.Poll, null, CancellationToken.None);
        Assert.Equal("Stopped", terminated.Status);
        Assert.Equal([$"model data {gonePlan.ModelDataUrl}", $"model {gonePlan.ModelName}"], terminated.CleanedUp);
        Assert.Empty(await ListNamesAsync(s, "ListModels", "Models", "ModelName", gonePlan.ModelName));
        Assert.False(await store.ObjectExistsAsync(gonePlan.ModelDataUrl, CancellationToken.None));
        Assert.Contains("SageMaker.StopTransformJob", s.Validator.Calls);
        s.AssertShapesValid();
    }

    private static Func<AwsCall, Task<HttpResponseMessage>> StuckCreating(string app) => async call =>
    {
        if (call.Operation != "DescribeEndpoint" || (string?)call.Request!["EndpointName"] != app) return await call.Next();
        var answer = await FaultInjector.AnswerOf(call);
        answer["EndpointStatus"] = "Creating";
        return FaultInjector.Json(answer);
    };

    private static async Task AssertNothingLeftAsync(MotoSession s, string app, string bucket)
    {
        s.Faults.Intercept = null;
        var sm = new SageMakerClient(s.Connection);
        Assert.Null(await sm.FindEndpointAsync(app, CancellationToken.None));
        foreach (var op in new[] { "CreateModel", "CreateEndpointConfig" })
        {
            var created = s.Validator.Calls.Count(c => c == "SageMaker." + op);
            Assert.True(created > 0, $"{op} was never called");
        }
        using var store = new ModelDataStore(s.Connection);
        Assert.False(await store.BucketExistsAsync(bucket, CancellationToken.None));
        var models = await ListNamesAsync(s, "ListModels", "Models", "ModelName", app);
        var configs = await ListNamesAsync(s, "ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", app);
        Assert.Empty(models);
        Assert.Empty(configs);
    }

    /// <summary>A listing the module itself never needs, read straight from moto for the assertions.</summary>
    private static async Task<List<string>> ListNamesAsync(MotoSession s, string op, string list, string field, string contains)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, s.Connection.EndpointFor(AwsService.SageMaker))
        {
            Content = new StringContent(new JsonObject { ["NameContains"] = contains }.ToJsonString(), System.Text.Encoding.UTF8, "application/x-amz-json-1.1"),
        };
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "SageMaker." + op);
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0");
        var answer = JsonNode.Parse(await (await http.SendAsync(request)).Content.ReadAsStringAsync())!;
        return answer[list]!.AsArray().Select(n => (string)n![field]!).Where(n => n.Contains(contains, StringComparison.Ordinal)).ToList();
    }
}

[Collection("moto")]
[Trait("Category", "Cloud")]
public class SageMakerTargetTests(MotoServer moto)
{
    [SkippableFact]
    public async Task TheFactoryGivesATargetThatDeploysWithMLflowsConfigKeys()
    {
        using var s = new MotoSession(moto.Require());
        using var target = DeploymentTargetFactory.Default.Create("sagemaker", new SageMakerTargetSettings(new AwsConnectionOptions()) { Connection = s.Connection });
        var app = $"target-{Guid.NewGuid().ToString("N")[..8]}";
        var options = new SageMakerDeployOptions
        {
            AppName = app, ModelPath = Path.Combine(MlModels.Core.Tests.TestPaths.Examples, "pyfunc-custom"),
            ExecutionRoleArn = "arn:aws:iam::123456789012:role/sagemaker-execution", ImageUrl = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:1",
            InstanceType = "ml.c5.large", InstanceCount = 2, Tags = new Dictionary<string, string> { ["team"] = "ml" },
            VpcConfig = SageMakerSettings.ToShape<VpcConfig>(new Dictionary<string, object?> { ["SecurityGroupIds"] = new List<object?> { "sg-1" }, ["Subnets"] = new List<object?> { "subnet-1" } }, "vpc_config"),
        };
        var plan = await target.PlanAsync(options, CancellationToken.None);
        Assert.Contains(plan.Calls, c => c.Contains("CreateEndpoint", StringComparison.Ordinal));
        var created = await target.CreateAsync(options, null, CancellationToken.None);
        var d = Assert.IsType<SageMakerDeployment>(created);
        Assert.Equal(("sagemaker", "InService"), (d.Target, d.Status));
        Assert.Equal(("ml.c5.large", 2), (d.Variants[0].InstanceType, d.Variants[0].InstanceCount));
        Assert.Contains(await target.ListAsync(CancellationToken.None), x => x.Name == app);
        var removal = await target.DeleteAsync(new SageMakerDeleteOptions(app) { PollInterval = TimeSpan.FromMilliseconds(50) }, null, CancellationToken.None);
        Assert.Contains($"endpoint {app}", Assert.IsType<SageMakerRemoval>(removal.Resource).Deleted);
        Assert.Null(await target.GetAsync(app, CancellationToken.None));
        var bad = Assert.Throws<ArgumentException>(() => SageMakerSettings.ToShape<VpcConfig>(new Dictionary<string, object?> { ["Subnet"] = "typo" }, "vpc_config"));
        Assert.Contains("vpc_config is not a valid SageMaker VpcConfig", bad.Message);
        s.AssertShapesValid();
    }
}

[Collection("moto")]
[Trait("Category", "Cloud")]
public class EcrRepositoriesTests(MotoServer moto)
{
    [SkippableFact]
    public async Task Prepare_CreatesTheRepositoryOnce_AndDecodesTheLogin()
    {
        using var s = new MotoSession(moto.Require());
        var name = $"mlflow-pyfunc-{Guid.NewGuid().ToString("N")[..6]}";
        var ecr = new EcrRepositories(s.Connection);
        var first = await ecr.PrepareAsync(name, "0.1.0", CancellationToken.None);
        Assert.True(first.Created);
        Assert.Equal("AWS", first.Username);
        Assert.NotEmpty(first.Password);
        Assert.EndsWith($"/{name}:0.1.0", first.ImageUri);
        Assert.Equal(first.RepositoryUri.Split('/')[0], first.Registry);
        var second = await ecr.PrepareAsync(name, "0.1.0", CancellationToken.None);
        Assert.False(second.Created);
        Assert.Equal(["AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"],
            s.Validator.Calls.Take(3).ToList());
        await Assert.ThrowsAsync<ArgumentException>(() => ecr.PrepareAsync("Upper Case", "1", CancellationToken.None));
        s.AssertShapesValid();
    }
}
