using MlModels.Core.Evaluation.Plots;

namespace MlModels.Core.Tests.Evaluation.Plots;

[Trait("Category", "Fast")]
public class ChartsSaveTests
{
    private static readonly LineChart Roc = new()
    {
        Title = "ROC curve", XLabel = "False Positive Rate", YLabel = "True Positive Rate",
        Series = [new Series("model", [0, 0.2, 1], [0, 0.8, 1])], Reference = (0, 0, 1, 1), Width = 400, Height = 300,
    };

    [Fact]
    public void Save_ReplacesAnExistingFile_AndLeavesNoTemporaryFile()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "roc_curve_plot.png");
        File.WriteAllText(path, "an older file, longer than nothing");
        Charts.Save(Roc, path);
        Assert.Equal([path], Directory.GetFiles(dir));
        Assert.Equal(Charts.Png(Roc), File.ReadAllBytes(path));
        Assert.Equal(400, PngReader.Read(File.ReadAllBytes(path)).Width);

        var heatmap = new HeatmapChart
        {
            Title = "Confusion matrix", RowLabels = ["0", "1"], ColumnLabels = ["0", "1"], Values = new double[,] { { 3, 1 }, { 0, 4 } },
        };
        Charts.Save(heatmap, path);
        Assert.Equal([path], Directory.GetFiles(dir));
        Assert.Equal(1050, PngReader.Read(File.ReadAllBytes(path)).Width);
    }

    [Fact]
    public void Save_CreatesTheFolder()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "plots", "roc.png");
        Charts.Save(Roc, path);
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Save_ThatFails_LeavesNoTemporaryFileAndTheOldFileAsItWas()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "roc.png");
        File.WriteAllText(path, "old");
        Assert.Throws<ArgumentException>(() => Charts.Save(Roc with { XRange = (1, 0) }, path));
        var folderInTheWay = Path.Combine(dir, "a folder");
        Directory.CreateDirectory(folderInTheWay);
        Assert.ThrowsAny<IOException>(() => Charts.Save(Roc, folderInTheWay));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
