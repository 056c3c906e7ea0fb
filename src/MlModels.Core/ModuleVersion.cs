namespace MlModels.Core;

/// <summary>
/// The module's version in full as MlModels.psd1 states it (ModuleVersion, then -Prerelease when there is one): the
/// constant <c>Full</c>, which the build writes (MlModels.Core.csproj, target MlModelsVersionConstant); the assembly
/// version alone would drop the prerelease suffix.
/// </summary>
public static partial class ModuleVersion;
