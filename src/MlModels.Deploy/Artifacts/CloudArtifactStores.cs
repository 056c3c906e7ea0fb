using MlModels.Core.Artifacts;
using MlModels.Core.Tracking;

namespace MlModels.Deploy.Artifacts;

/// <summary>
/// The artifact stores whose SDKs live in this assembly, registered beside Core's own (local paths, the tracking
/// server's proxy): s3 (AWSSDK.S3), wasbs and abfss (Azure.Storage.Blobs), gs (Google.Cloud.Storage.V1).
/// </summary>
public static class CloudArtifactStores
{
    /// <summary>Core's repositories for this tracking client (or none) with the cloud stores added.</summary>
    public static ArtifactRepositories All(TrackingClient? client = null) => Register(ArtifactRepositories.WithBuiltIns(client));

    public static ArtifactRepositories Register(ArtifactRepositories repositories) => repositories
        .Register("s3", root => new S3ArtifactRepository(root))
        .Register("wasbs", root => new AzureBlobArtifactRepository(root))
        .Register("abfss", root => new AzureBlobArtifactRepository(root))
        .Register("gs", root => new GcsArtifactRepository(root));
}
