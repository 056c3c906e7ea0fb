using System.Text.RegularExpressions;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

/// <summary>
/// From a module Python could not import to the pip command that provides it: the distribution's name on PyPI
/// (which often differs from the import name: sklearn is scikit-learn) at the version the model's environment pins.
/// </summary>
public static partial class PythonPackages
{
    // Import names whose distribution is called something else. A dotted name wins over its first part.
    private static readonly Dictionary<string, string> Distributions = new(StringComparer.Ordinal)
    {
        ["sklearn"] = "scikit-learn", ["yaml"] = "PyYAML", ["cv2"] = "opencv-python", ["PIL"] = "Pillow",
        ["skimage"] = "scikit-image", ["bs4"] = "beautifulsoup4", ["dateutil"] = "python-dateutil",
        ["google.protobuf"] = "protobuf", ["google.cloud.storage"] = "google-cloud-storage",
        ["azure.storage.blob"] = "azure-storage-blob", ["azure.identity"] = "azure-identity", ["attr"] = "attrs",
        ["Crypto"] = "pycryptodome", ["dotenv"] = "python-dotenv", ["jwt"] = "PyJWT", ["jose"] = "python-jose",
        ["magic"] = "python-magic", ["serial"] = "pyserial", ["usb"] = "pyusb", ["OpenSSL"] = "pyOpenSSL",
        ["git"] = "GitPython", ["docx"] = "python-docx", ["pptx"] = "python-pptx", ["fitz"] = "PyMuPDF",
        ["zmq"] = "pyzmq", ["MySQLdb"] = "mysqlclient", ["win32api"] = "pywin32", ["win32com"] = "pywin32",
        ["Bio"] = "biopython", ["pkg_resources"] = "setuptools", ["nacl"] = "PyNaCl", ["gi"] = "PyGObject",
        ["mpl_toolkits"] = "matplotlib", ["imblearn"] = "imbalanced-learn", ["umap"] = "umap-learn",
        ["faiss"] = "faiss-cpu", ["tf_keras"] = "tf-keras", ["slugify"] = "python-slugify", ["socks"] = "PySocks",
        ["Levenshtein"] = "python-Levenshtein", ["sentence_transformers"] = "sentence-transformers",
        ["category_encoders"] = "category-encoders", ["lightgbm"] = "lightgbm", ["xgboost"] = "xgboost",
        ["onnxruntime"] = "onnxruntime", ["pyspark"] = "pyspark", ["ruamel.yaml"] = "ruamel.yaml",
        ["markdown"] = "Markdown", ["fasttext"] = "fasttext-wheel", ["igraph"] = "igraph", ["tensorflow_hub"] = "tensorflow-hub",
    };

    /// <summary>The PyPI distribution that provides <paramref name="module"/> (e.g. scikit-learn for sklearn.ensemble).</summary>
    public static string DistributionFor(string module)
    {
        for (var name = module; ;)
        {
            if (Distributions.TryGetValue(name, out var dist)) return dist;
            var dot = name.LastIndexOf('.');
            if (dot < 0) return module.Split('.')[0];
            name = name[..dot];
        }
    }

    /// <summary>
    /// The requirement to install for a missing module: the model's own line for its distribution (requirements.txt,
    /// then python_env.yaml, then conda.yaml's pip list), else the bare distribution name. <paramref name="source"/>
    /// names the file the pin came from.
    /// </summary>
    public static string RequirementFor(string module, MLModel? model, out string? source)
    {
        var dist = DistributionFor(module);
        source = null;
        if (model?.Path != null)
        {
            ModelEnvironment? env = null;
            try { env = EnvironmentFiles.Read(model); }
            catch (Exception ex) when (ex is MLModelFormatException or IOException or UnauthorizedAccessException) { }
            var lists = new (IReadOnlyList<string>? Lines, string File)[]
            {
                (env?.Requirements, "requirements.txt"), (env?.PythonEnv?.Dependencies, "python_env.yaml"), (env?.Conda?
                    .PipDependencies, "conda.yaml"),
            };
            foreach (var (lines, file) in lists)
            {
                var line = lines?.FirstOrDefault(l => NameOf(l) is string n && Normalize(n) == Normalize(dist));
                if (line != null) { source = file; return line.Split(" #")[0].Trim(); }
            }
        }
        return dist;
    }

    /// <summary>A pip command that works, e.g. <c>pip install "scikit-learn==1.3.2" (pinned in the model's requirements.txt)</c>.</summary>
    public static string InstallHint(string module, MLModel? model)
    {
        var requirement = RequirementFor(module, model, out var source);
        var arg = requirement.IndexOfAny(['<', '>', '=', '!', '~', ';', ' ', '[', '*', '@']) >= 0 ? $"\"{requirement}\"" : requirement;
        var top = module.Split('.')[0];
        var dist = DistributionFor(module);
        var where = source == null ? "the model's environment files do not list it"
            : NameOf(requirement) == requirement ? $"the model's {source} lists it without a version"
            : $"pinned in the model's {source}";
        return $"pip install {arg} ({where}{(Normalize(dist) != Normalize(top) ? $"; '{top}' is imported from the {dist} distribution" : "")})";
    }

    private static string? NameOf(string requirement)
    {
        if (requirement.StartsWith('-')) return null; // -r, --extra-index-url and other pip options
        var m = RequirementName().Match(requirement);
        return m.Success ? m.Value : null;
    }

    private static string Normalize(string name) => Separators().Replace(name, "-").ToLowerInvariant(); // PEP 503

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*")]
    private static partial Regex RequirementName();

    [GeneratedRegex(@"[-_.]+")]
    private static partial Regex Separators();
}
