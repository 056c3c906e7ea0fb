using System.Formats.Tar;
using System.IO.Compression;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// model.tar.gz as SageMaker unpacks it into /opt/ml/model: the model folder's entries at the archive root
/// (MLflow's layout). Links that lead out of the folder are not followed.
/// </summary>
public static class ModelArchive
{
    public static void Write(string modelDir, string archivePath)
    {
        var root = Path.GetFullPath(modelDir);
        var tmp = archivePath + ".partial";
        using (var file = File.Create(tmp))
        using (var gz = new GZipStream(file, CompressionLevel.Optimal))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(
                root,
                "*",
                new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(entry);
                if (info.LinkTarget != null) continue;
                var name = Path.GetRelativePath(root, entry).Replace('\\', '/');
                if (Directory.Exists(entry)) tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name + "/"));
                else tar.WriteEntry(entry, name);
            }
        }
        File.Move(tmp, archivePath, overwrite: true);
    }
}
