using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Amazon.S3.Util;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>model.tar.gz in S3 through AWSSDK.S3: the bucket made when missing, a multipart upload with progress.</summary>
public sealed class ModelDataStore(AwsConnection connection) : IDisposable
{
    private readonly IAmazonS3 _s3 = connection.CreateS3Client();

    public IAmazonS3 S3 => _s3;

    public async Task<bool> BucketExistsAsync(string bucket, CancellationToken ct)
    {
        try { return await AmazonS3Util.DoesS3BucketExistV2Async(_s3, bucket).WaitAsync(ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "HeadBucket", bucket); }
    }

    public async Task CreateBucketAsync(string bucket, CancellationToken ct)
    {
        var request = new PutBucketRequest { BucketName = bucket };
        // us-east-1 takes no location constraint; every other region needs one.
        if (connection.RegionName != "us-east-1") request.BucketRegionName = connection.RegionName;
        try { await _s3.PutBucketAsync(request, ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "CreateBucket", bucket); }
    }

    public async Task DeleteBucketAsync(string bucket, CancellationToken ct)
    {
        try { await _s3.DeleteBucketAsync(bucket, ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "DeleteBucket", bucket); }
    }

    /// <summary>Uploads the file (in parts past 16 MiB), tagged SageMaker=true as MLflow tags it; returns its s3:// URI.</summary>
    public async Task<string> UploadAsync(string file, string bucket, string key, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var uri = $"s3://{bucket}/{key}";
        using var transfer = new TransferUtility(_s3, new TransferUtilityConfig { MinSizeBeforePartUpload = 16L * 1024 * 1024 });
        var request = new TransferUtilityUploadRequest
        {
            FilePath = file, BucketName = bucket, Key = key, PartSize = 16L * 1024 * 1024,
            TagSet = [new Amazon.S3.Model.Tag { Key = "SageMaker", Value = "true" }],
        };
        request.UploadProgressEvent += (_, e) => progress?.Report(
            new DeploymentProgress($"Uploading {uri}", $"{e.TransferredBytes:N0} of {e.TotalBytes:N0} bytes", e.PercentDone));
        try { await transfer.UploadAsync(request, ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "PutObject", uri); }
        return uri;
    }

    public async Task DeleteAsync(string s3Uri, CancellationToken ct)
    {
        var (bucket, key) = SageMakerNames.ParseS3Uri(s3Uri);
        try { await _s3.DeleteObjectAsync(bucket, key, ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "DeleteObject", s3Uri); }
    }

    public async Task<bool> ObjectExistsAsync(string s3Uri, CancellationToken ct)
    {
        var (bucket, key) = SageMakerNames.ParseS3Uri(s3Uri);
        try { await _s3.GetObjectMetadataAsync(bucket, key, ct).ConfigureAwait(false); return true; }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound) { return false; }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "HeadObject", s3Uri); }
    }

    private static AwsServiceException Wrap(AmazonS3Exception ex, string operation, string resource) =>
        new("S3", operation, resource, ex.ErrorCode ?? ex.StatusCode.ToString(), ex.Message, ex.StatusCode, ex.RequestId);

    public void Dispose() => _s3.Dispose();
}
