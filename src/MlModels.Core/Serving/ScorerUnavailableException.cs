namespace MlModels.Core.Serving;

/// <summary>No scorer could be had for a request: the model's Python worker could not be started (the server answers 503).</summary>
public sealed class ScorerUnavailableException(string message, Exception inner) : Exception(message, inner);
