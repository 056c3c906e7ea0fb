namespace MlModels.PowerShell.Internal;

/// <summary>
/// Every progress activity id the cmdlets use, in one place, so that two cmdlets in one pipeline never share a bar
/// by accident (a child's id is its parent's plus one or more).
/// </summary>
internal static class ProgressIds
{
    public const int GetModel = 1;
    public const int SaveModel = 2;
    public const int ResolveModelUri = 3;
    public const int Prediction = 4;
    public const int PreparePythonEnvironment = 6;
    public const int StartServer = 5;
    public const int Aws = 7;
    public const int PublishModel = 8;
    public const int PublishAzureML = 9;
    public const int RemoveAzureML = 10;
    public const int BuildImage = 11;
    public const int StartSageMakerLocal = 12;
    public const int SetAzureMLTraffic = 13;
    public const int PublishAzureMLLocal = 14;
    public const int PublishImage = 21;
    /// <summary>Layers of a push are children of <see cref="PublishImage"/>: 22, 23, ...</summary>
    public const int PublishImageLayers = 22;
    public const int StartContainer = 31;
    public const int Evaluation = 15;
    public const int Kubernetes = 41;
}
