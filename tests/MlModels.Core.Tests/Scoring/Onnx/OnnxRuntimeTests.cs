using MlModels.Core.Format;
using MlModels.Core.Scoring.Onnx;

namespace MlModels.Core.Tests.Scoring.Onnx;

/// <summary>ONNX Runtime's log is routed into the module, and what it cannot run is told apart from a broken model.</summary>
[Trait("Category", "Fast")]
public class OnnxRuntimeTests
{
    private static MLModel Wrap(string onnx) =>
        OnnxPackager.Save(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", onnx), Path.Combine(TestPaths.NewTempDir(), "m"));

    [Fact]
    public void MissingOperatorVersion_IsItsOwnError_NamingOperatorOpsetAndWhatToDo()
    {
        // Wrapping the file fails the same way, since wrapping reads the graph through ONNX Runtime.
        Assert.Equal("OnnxOperatorNotImplemented", Assert.Throws<OnnxUnsupportedException>(() => Wrap("avgpool-opset1.onnx")).ErrorId);
        var m = Wrap("linear.onnx");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/avgpool-opset1.onnx"), Path.Combine(m.Path!, "model.onnx"), overwrite: true);
        var ex = Assert.Throws<OnnxUnsupportedException>(() => OnnxScorer.Load(ModelStore.Load(m.Path!)));
        Assert.Equal("OnnxOperatorNotImplemented", ex.ErrorId);
        Assert.Equal("AveragePool", ex.Operator);
        Assert.Equal(1, ex.Opset);
        Assert.Contains("AveragePool as defined in opset 1", ex.Message);
        Assert.Contains("model.onnx", ex.Message);
        Assert.Contains("re-export the model with a newer ONNX opset", ex.Message);
        Assert.IsNotType<MLModelFormatException>(ex);
    }

    [Fact]
    public void ACorruptFile_IsStillAFormatError()
    {
        var m = Wrap("linear.onnx");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx/corrupt.onnx"), Path.Combine(m.Path!, "model.onnx"), overwrite: true);
        Assert.Throws<MLModelFormatException>(() => OnnxScorer.Load(ModelStore.Load(m.Path!)));
    }

    [Fact]
    public void AnOpsetNewerThanTheRuntime_IsOnnxOpsetNotSupported()
    {
        var ex = Assert.Throws<OnnxUnsupportedException>(() => OnnxScorer.Load(Wrap("future-opset.onnx")));
        Assert.Equal("OnnxOpsetNotSupported", ex.ErrorId);
        Assert.Equal(999, ex.Opset);
        Assert.Contains("opset 999 of ai.onnx", ex.Message);
        Assert.Matches(@"opset \d+ or lower", ex.Message);
    }

    [Fact]
    public void OldOpsetWarning_GoesToTheRoutedSink_AsOneThatMatters()
    {
        var m = Wrap("old-opset.onnx");
        var seen = new List<OnnxLogMessage>();
        using (OnnxRuntimeLog.Route(msg => { lock (seen) seen.Add(msg); }))
            OnnxScorer.Load(m).Dispose();
        var opset = Assert.Single(seen, x => x.Text.Contains("opset 6"));
        Assert.Equal(OnnxLogSeverity.Warning, opset.Severity);
        Assert.True(opset.MattersToUser);
        Assert.Contains(seen, x => !x.MattersToUser); // the transpose optimizer's note on the old opset
        Assert.StartsWith("ONNX Runtime warning (", opset.ToString());
    }

    [Fact]
    public void OutsideARoute_LinesGoToTheUnroutedSink()
    {
        var m = Wrap("old-opset.onnx");
        var seen = new List<OnnxLogMessage>();
        var before = OnnxRuntimeLog.Unrouted;
        OnnxRuntimeLog.Unrouted = msg => { lock (seen) seen.Add(msg); };
        try { OnnxScorer.Load(m).Dispose(); }
        finally { OnnxRuntimeLog.Unrouted = before; }
        lock (seen) Assert.Contains(seen, x => x.Text.Contains("opset 6"));
    }

    [Theory]
    [InlineData(OnnxLogSeverity.Warning, "Removing initializer 'W'. It is not used by any node and should be removed from the model.", false)]
    [InlineData(OnnxLogSeverity.Warning, "Transpose optimizer failed: Unsupported ONNX opset: 6", false)]
    [InlineData(OnnxLogSeverity.Warning, "ONNX Runtime only *guarantees* support for models stamped with opset version 7 or above for opset domain 'ai.onnx'. Please upgrade your model to opset 7 or higher.", true)]
    [InlineData(OnnxLogSeverity.Warning, "Force fallback to CPU execution for node: x", true)]
    [InlineData(OnnxLogSeverity.Error, "Non-zero status code returned while running Add node.", true)]
    public void OnlyLinesAUserShouldActOn_Matter(OnnxLogSeverity severity, string text, bool matters)
    {
        Assert.Equal(matters, new OnnxLogMessage(severity, "onnxruntime", "x.cc:1", text).MattersToUser);
    }
}
