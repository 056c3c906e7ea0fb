using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MlModels.Core.Serving;

namespace MlModels.Server.Tests;

/// <summary>
/// The host's content root is the server's own folder and no configuration file is watched: a watched content root
/// (by default the working directory, / in a container) is walked with its whole tree before the server listens.
/// </summary>
[Trait("Category", "Fast")]
public class HostSettingsTests
{
    [Fact]
    public async Task ContentRoot_IsTheServersFolder_AndNoConfigurationFileIsWatched()
    {
        var app = Program.Build(RunningServer.LinearModel(), new ServingOptions { Port = 0 });
        await using (app)
        {
            Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory),
                Path.TrimEndingDirectorySeparator(app.Environment.ContentRootPath));
            var watched = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>()
                .Where(p => p.Source.ReloadOnChange).Select(p => p.Source.Path).ToList();
            Assert.True(watched.Count == 0, "watched configuration files: " + string.Join(", ", watched));
        }
    }
}
