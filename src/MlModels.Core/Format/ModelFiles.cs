namespace MlModels.Core.Format;

/// <summary>File-system rules for model folders: paths never leave the folder, symlinks out are not followed.</summary>
public static class ModelFiles
{
    public const string MLmodelFileName = "MLmodel";

    /// <summary>
    /// True for what a wildcard may pick up as a model: a folder holding an MLmodel file, or a file named MLmodel
    /// (or an MLmodel variant such as <c>MLmodel.with.metadata</c>). Anything else a pattern matched is not one.
    /// </summary>
    public static bool IsModelCandidate(string path)
    {
        if (Directory.Exists(path)) return File.Exists(Path.Combine(path, MLmodelFileName));
        var name = Path.GetFileName(path);
        return name == MLmodelFileName || name.StartsWith(MLmodelFileName + ".", StringComparison.Ordinal);
    }

    /// <summary>Resolves a path written in the MLmodel relative to the model folder, refusing anything that escapes it.</summary>
    public static string ResolveInside(string modelDir, string relative, string field)
    {
        if (string.IsNullOrEmpty(relative))
            throw new PathOutsideModelException($"{field} is empty.", field, relative);
        if (Path.IsPathRooted(relative) || relative.StartsWith('\\') || (relative.Length >= 2 && relative[1] == ':') || relative.Contains("://")
            || relative.StartsWith("file:", StringComparison.Ordinal))
            throw new PathOutsideModelException(
                $"{field} is an absolute path or URI ('{relative}'); paths in a model must be relative to its folder.",
                field,
                relative);
        var root = Path.GetFullPath(modelDir);
        var full = Path.GetFullPath(Path.Combine(root, relative.Replace('\\', '/')));
        if (!IsUnder(root, full))
            throw new PathOutsideModelException($"{field} ('{relative}') leaves the model folder.", field, relative);
        // A symlink on the way may still lead out of the folder.
        var current = root;
        foreach (var part in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget != null)
            {
                var target = info.ResolveLinkTarget(true);
                if (target == null || !IsUnder(root, Path.GetFullPath(target.FullName)))
                    throw new PathOutsideModelException(
                        $"{field} ('{relative}') goes through a symbolic link that points outside the model folder.",
                        field,
                        relative);
            }
        }
        return full;
    }

    public static bool IsUnder(string root, string full)
    {
        var rel = Path.GetRelativePath(root, full);
        return rel == "." || (!rel.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(rel));
    }

    public static long FolderSize(string dir)
    {
        long total = 0;
        try
        {
            foreach (var f in new DirectoryInfo(dir).EnumerateFiles(
                "*",
                new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true }))
                total += f.Length;
        }
        catch (IOException) { }
        return total;
    }

    /// <summary>
    /// Copies a model folder's files (not its MLmodel). Symlinks that point outside the source are skipped and reported;
    /// links inside are copied as the files they point to.
    /// </summary>
    public static void CopyModelFiles(
        string source,
        string target,
        Action<string>? skipped,
        IProgress<(int Done, int Total)>? progress,
        CancellationToken ct)
    {
        var root = Path.GetFullPath(source);
        var files = new List<(string Rel, FileInfo Info)>();
        var dirs = new Stack<DirectoryInfo>();
        dirs.Push(new DirectoryInfo(root));
        while (dirs.Count > 0)
        {
            var d = dirs.Pop();
            foreach (var entry in d.EnumerateFileSystemInfos())
            {
                var rel = Path.GetRelativePath(root, entry.FullName);
                if (entry.LinkTarget != null)
                {
                    var resolved = entry.ResolveLinkTarget(true);
                    // Linked folders are not walked (they could loop); links leading out are never followed.
                    if (entry is DirectoryInfo || resolved == null || !resolved.Exists || !IsUnder(root, Path.GetFullPath(resolved.FullName)))
                    {
                        skipped?.Invoke(rel);
                        continue;
                    }
                }
                if (entry is DirectoryInfo sub) { Directory.CreateDirectory(Path.Combine(target, rel)); dirs.Push(sub); }
                else if (entry is FileInfo fi && !(d.FullName == root && fi.Name == MLmodelFileName)) files.Add((rel, fi));
            }
        }
        for (int i = 0; i < files.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var dest = Path.Combine(target, files[i].Rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(files[i].Info.FullName, dest, overwrite: false);
            progress?.Report((i + 1, files.Count));
        }
    }
}
