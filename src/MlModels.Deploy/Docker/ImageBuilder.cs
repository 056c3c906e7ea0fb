using System.Formats.Tar;
using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace MlModels.Deploy.Docker;

/// <summary>An image as the engine reports it, with the labels MlModels put on it.</summary>
public sealed record MLModelImage(string Id, IReadOnlyList<string> Tags, long Size, DateTime Created, IReadOnlyDictionary<string, string> Labels)
{
    public string? ModelName => Labels.GetValueOrDefault(DockerContextWriter.LabelPrefix + "model.name");
    public string? Kind => Labels.GetValueOrDefault(DockerContextWriter.LabelPrefix + "kind");
    public string Tag => Tags.Count > 0 ? Tags[0] : Id;
    public double SizeMB => Math.Round(Size / 1_000_000.0, 1);
    public override string ToString() => Tag;
}

/// <summary>A build step failed: which step, and what it printed.</summary>
public sealed class ImageBuildException(string message, string? step, IReadOnlyList<string> output) : DockerEngineException(message)
{
    public string? Step { get; } = step;
    public IReadOnlyList<string> Output { get; } = output;
}

/// <summary>A line of build output, and how far the build is (step of steps).</summary>
public sealed record BuildProgress(string Line, int Step, int Steps);

/// <summary>
/// Builds an image from a context folder through the engine's /build (MLflow's <c>build-docker</c>): the folder is
/// streamed as a tar, output arrives line by line, a failing step becomes an <see cref="ImageBuildException"/> with
/// its output, and cancelling the token closes the connection, which stops the build.
/// </summary>
public sealed partial class ImageBuilder(DockerEngine engine)
{
    public async Task<MLModelImage> BuildAsync(string contextPath, IReadOnlyList<ImageReference> tags, IProgress<BuildProgress>? progress,
        CancellationToken cancellationToken, string? platform = null, bool noCache = false)
    {
        if (!File.Exists(Path.Combine(contextPath, "Dockerfile")))
            throw new FileNotFoundException(
                $"There is no Dockerfile in '{contextPath}'; make the context with New-MLModelDockerfile.",
                Path.Combine(contextPath, "Dockerfile"));
        if (tags.Count == 0) throw new ArgumentException("Give the image at least one tag.", nameof(tags));
        var parameters = new ImageBuildParameters
        {
            Tags = tags.Select(t => t.WithDefaultTag().ToString()).ToList(),
            Remove = true,
            ForceRemove = true,
            NoCache = noCache,
            BuildArgs = PipBuildArgs(),
        };
        // Only ask for a platform that is not the engine's own: older engines refuse the parameter without BuildKit.
        if (platform != null && platform != $"{engine.Os}/{NormalizeArch(engine.Architecture)}") parameters.Platform = platform;

        var output = new List<string>();
        string? step = null;
        int stepNo = 0, steps = 0;
        JSONError? error = null;
        string? builtId = null;
        var messages = new SyncProgress<JSONMessage>(m =>
        {
            if (m.Error != null) { error = m.Error; return; }
            if (m.Aux?.ExtensionData?.TryGetValue("ID", out var id) == true && id?.ToString() is string sid) builtId = sid;
            var text = m.Stream ?? m.Status;
            if (string.IsNullOrEmpty(text)) return;
            foreach (var raw in text.Split('\n'))
            {
                var line = AnsiEscape().Replace(raw, "").TrimEnd('\r');
                if (line.Length == 0) continue;
                var s = StepLine().Match(line);
                if (s.Success)
                {
                    step = line;
                    stepNo = int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture);
                    steps = int.Parse(s.Groups[2].Value, CultureInfo.InvariantCulture);
                    output.Clear();
                }
                else output.Add(line);
                progress?.Report(new BuildProgress(line, stepNo, steps));
            }
        });

        await using (var tar = new TarContextStream(contextPath))
        {
            try
            {
                await engine.Client.Images.BuildImageFromDockerfileAsync(parameters, tar, null, null, messages, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (DockerApiException ex)
            {
                throw new DockerEngineException($"The Docker engine at {engine.Endpoint} refused the build: {ex.ResponseBody?.Trim()}", ex);
            }
        }
        if (error != null)
        {
            var tail = output.TakeLast(40).ToList();
            var message = step != null
                ? $"The image build failed at {step}: {error.Message?.Trim()}"
                : $"The image build failed: {error.Message?.Trim()}";
            if (tail.Count > 0) message += Environment.NewLine + string.Join(Environment.NewLine, tail);
            if (step != null && step.Contains("pip install", StringComparison.Ordinal)) message += Environment.NewLine + PipHint;
            throw new ImageBuildException(message, step, tail);
        }
        return await InspectAsync(engine, builtId ?? parameters.Tags[0], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What fixes a pip step that cannot reach its packages.</summary>
    public const string PipHint
        = "pip could not install the model's requirements in the image. Where the build cannot reach PyPI, give -Wheelhouse <folder of wheels> " +
        "(installed with pip --no-index --find-links), or set PIP_INDEX_URL (and PIP_TRUSTED_HOST for plain HTTP) to an index the " +
            "build can reach; those go to the build as arguments.";

    /// <summary>The pip index settings of this environment, passed to the build where set (they show in docker history:
    /// no secrets in them).</summary>
    public static IDictionary<string, string> PipBuildArgs()
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in (string[])["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"])
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } v) args[name] = v;
        return args;
    }

    /// <summary>The image by id or tag, or an error naming it.</summary>
    public static async Task<MLModelImage> InspectAsync(DockerEngine engine, string image, CancellationToken cancellationToken)
    {
        ImageInspectResponse r;
        try { r = await engine.Client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false); }
        catch (DockerImageNotFoundException ex)
        {
            throw new DockerObjectNotFoundException(
            $"There is no image '{image}' on the Docker engine at {engine.Endpoint}.",
            ex);
        }
        var labels = r.Config?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
        return new MLModelImage(r.ID, r.RepoTags?.ToList() ?? [], r.Size, r.Created ?? default, labels);
    }

    private static string NormalizeArch(string arch) => arch switch { "x86_64" => "amd64", "aarch64" => "arm64", _ => arch };

    [GeneratedRegex(@"^Step (\d+)/(\d+) :")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}

/// <summary>Reports on the caller's thread, in order (System.Progress posts to the thread pool and may reorder).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>A build context folder as a tar stream (written to a temporary file, since the engine wants a length-known body).</summary>
internal sealed class TarContextStream : Stream
{
    private readonly FileStream _file;

    public TarContextStream(string folder)
    {
        var path = Path.Combine(Path.GetTempPath(), "mlmodels-context-" + Guid.NewGuid().ToString("N") + ".tar");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        using (var writer = new TarWriter(_file, TarEntryFormat.Pax, leaveOpen: true))
        {
            var root = Path.GetFullPath(folder);
            foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
                .OrderBy(e => e.FullName, StringComparer.Ordinal))
            {
                var name = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
                if (entry is DirectoryInfo)
                {
                    writer.WriteEntry(
                        new PaxTarEntry(TarEntryType.Directory, name + "/") { Mode = DirMode, ModificationTime = entry.LastWriteTimeUtc });
                    continue;
                }
                using var data = File.OpenRead(entry.FullName);
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    // Windows has no execute bit to read: an ELF file (the native server) is given one, anything else 644.
                    Mode = OperatingSystem.IsWindows()
                        ? IsElf(entry.FullName) ? FileMode755 : FileMode644
                        : ((FileInfo)entry).UnixFileMode | UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    ModificationTime = entry.LastWriteTimeUtc,
                    DataStream = data,
                });
            }
        }
        _file.Position = 0;
    }

    private const UnixFileMode DirMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
        | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead
        | UnixFileMode.OtherExecute;
    private const UnixFileMode FileMode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode FileMode755 = FileMode644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private static bool IsElf(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.Read(head) == 4 && head.SequenceEqual("\u007fELF"u8);
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _file.Length;
    public override long Position { get => _file.Position; set => _file.Position = value; }
    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _file.ReadAsync(buffer, cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
