using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using MlModels.Deploy.Endpoints;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// Settings given as plain values (a cmdlet's hashtables, MLflow's config dictionaries) read into SageMaker's typed
/// shapes such as <see cref="VpcConfig"/>: unknown or missing members are errors that name the setting.
/// </summary>
public static class SageMakerSettings
{
    private static readonly JsonSerializerOptions Strict = new(SageMakerJson.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = SageMakerJson.Default,
    };

    public static T ToShape<T>(object? plain, string setting) where T : class
    {
        var bytes = ScoringBodies.ToJson(plain);
        try
        {
            return JsonSerializer.Deserialize(bytes, (JsonTypeInfo<T>)Strict.GetTypeInfo(typeof(T)))
                ?? throw new ArgumentException($"{setting} is empty.");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{setting} is not a valid SageMaker {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
