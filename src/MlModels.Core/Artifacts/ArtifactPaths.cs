namespace MlModels.Core.Artifacts;

/// <summary>Artifact paths, '/'-separated whatever the platform, as every store and MLflow's client join them.</summary>
public static class ArtifactPaths
{
    /// <summary>Two parts joined by one '/'; an empty part leaves the other as it is.</summary>
    public static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : $"{a.TrimEnd('/')}/{b.TrimStart('/')}";
}
