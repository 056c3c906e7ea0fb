using System.Collections;
using System.Diagnostics;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests.Scoring.Python;

/// <summary>Warm Python workers: reuse, replacement when the model changes or the worker died, idle timeout, capacity, private workers.</summary>
public class PythonWorkerCacheTests
{
    private static readonly PythonOptions Options = new(Prerequisites.DebianPython);

    /// <summary>A copy of the custom pyfunc example (plain Python, no imports beyond the worker's), so its files can change.</summary>
    private static MLModel CopyOfModel(string name = "m")
    {
        Prerequisites.Require(Prerequisites.PythonHas("numpy, pandas"), "python3-numpy and python3-pandas (Debian)");
        var dir = Path.Combine(TestPaths.NewTempDir(), name);
        var source = Path.Combine(TestPaths.Examples, "pyfunc-custom");
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return ModelStore.Load(dir);
    }

    /// <summary>Scores x1=1, x2=2 (2*x1 - 0.5*x2 + 1 with the example's weights) and returns the worker's process id.</summary>
    private static (int Pid, bool Reused, double Value) Score(PythonWorkerCache? cache, MLModel model)
    {
        using var scorer = PythonScorer.Begin(model, Options, null, null, null, cache, null);
        var prediction = PredictionEngine.ScoreRequest(scorer, ScoringRequest.Parse("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\"], \"data\": [[1, 2]]}}"), null);
        var value = Convert.ToDouble(((IList)prediction.ToPlain()!)[0], System.Globalization.CultureInfo.InvariantCulture);
        return (scorer.Worker.ProcessId, scorer.Reused, value);
    }

    private static bool Exited(int pid, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                if (p.HasExited) return true;
            }
            catch (ArgumentException) { return true; } // no such process
            Thread.Sleep(50);
        }
        return false;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void SecondCall_ReusesTheWarmWorker()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        var first = Score(cache, model);
        var second = Score(cache, ModelStore.Load(model.Path!)); // a fresh load of the same folder is the same model
        Assert.Equal(2.0, first.Value);
        Assert.Equal(2.0, second.Value);
        Assert.False(first.Reused);
        Assert.True(second.Reused);
        Assert.Equal(first.Pid, second.Pid);
        var listed = Assert.Single(cache.List());
        Assert.Equal(first.Pid, listed.ProcessId);
        Assert.Equal(2, listed.Calls);
        Assert.False(listed.InUse);
        Assert.True(Alive(first.Pid));
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void ChangedModelFiles_GetANewWorker_AndTheOldOneExits()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        var first = Score(cache, model);
        File.WriteAllText(Path.Combine(model.Path!, "data", "weights.json"), "{\"weights\": {\"x1\": 10.0, \"x2\": 0.0}, \"bias\": 0.5}");
        var second = Score(cache, ModelStore.Load(model.Path!));
        Assert.NotEqual(first.Pid, second.Pid);
        Assert.False(second.Reused);
        Assert.Equal(10.5, second.Value); // the new weights, so the new worker loaded the changed files
        Assert.True(Exited(first.Pid, TimeSpan.FromSeconds(10)), $"the old worker {first.Pid} is still running");
        Assert.Equal(second.Pid, Assert.Single(cache.List()).ProcessId);
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void ChangedEnvironment_GetsANewWorker()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        var first = Score(cache, model);
        var name = "MLMODELS_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "1");
        try
        {
            var second = Score(cache, model);
            Assert.NotEqual(first.Pid, second.Pid);
        }
        finally { Environment.SetEnvironmentVariable(name, null); }
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void IdleWorker_StopsAfterTheTimeout()
    {
        using var cache = new PythonWorkerCache(idleTimeout: TimeSpan.FromSeconds(1));
        var first = Score(cache, CopyOfModel());
        Assert.Single(cache.List());
        Assert.True(Exited(first.Pid, TimeSpan.FromSeconds(15)), $"the idle worker {first.Pid} is still running");
        Assert.Empty(cache.List());
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void PastCapacity_TheLeastRecentlyUsedWorkerStops()
    {
        using var cache = new PythonWorkerCache(capacity: 2);
        var a = CopyOfModel("a");
        var b = CopyOfModel("b");
        var c = CopyOfModel("c");
        var pa = Score(cache, a).Pid;
        var pb = Score(cache, b).Pid;
        Assert.Equal(pa, Score(cache, a).Pid); // a is now the most recently used
        var pc = Score(cache, c).Pid;
        Assert.True(Exited(pb, TimeSpan.FromSeconds(10)), $"the least recently used worker {pb} is still running");
        Assert.Equal(new[] { pc, pa }, cache.List().Select(w => w.ProcessId));
        Assert.True(Alive(pa));
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void DeadWorker_IsReplacedOnTheNextCall()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        var first = Score(cache, model);
        using (var p = Process.GetProcessById(first.Pid)) { p.Kill(); p.WaitForExit(); }
        var second = Score(cache, model);
        Assert.NotEqual(first.Pid, second.Pid);
        Assert.False(second.Reused);
        Assert.Equal(2.0, second.Value);
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void WithoutACache_TheWorkerStopsWhenTheCallEnds()
    {
        var model = CopyOfModel();
        var run = Score(null, model);
        Assert.False(run.Reused);
        Assert.True(Exited(run.Pid, TimeSpan.FromSeconds(10)), $"the private worker {run.Pid} is still running");
        Assert.DoesNotContain(PythonWorkerCache.Shared.List(), w => w.ProcessId == run.Pid);
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void BusyWorker_IsNotShared_TheSecondCallGetsItsOwn()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        using var holding = PythonScorer.Begin(model, Options, null, null, null, cache, null);
        var held = holding.Worker.ProcessId;
        var other = Score(cache, model);
        Assert.NotEqual(held, other.Pid);
        Assert.True(Exited(other.Pid, TimeSpan.FromSeconds(10)), "the extra worker outlived its call");
        holding.Dispose();
        Assert.Equal(held, Score(cache, model).Pid);
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void ClearAndDispose_StopTheWorkers()
    {
        var cache = new PythonWorkerCache();
        var a = Score(cache, CopyOfModel("a")).Pid;
        var b = Score(cache, CopyOfModel("b")).Pid;
        var cleared = cache.Clear(w => w.ProcessId == a);
        Assert.Equal(a, Assert.Single(cleared).ProcessId);
        Assert.True(Exited(a, TimeSpan.FromSeconds(10)));
        Assert.True(Alive(b));
        cache.Dispose();
        Assert.True(Exited(b, TimeSpan.FromSeconds(10)));
        Assert.Throws<ObjectDisposedException>(() => cache.Acquire(CopyOfModel("c"), Prerequisites.DebianPython, Prerequisites.DebianPython, EnvManager.Local, null, TimeSpan.FromMinutes(1)));
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void WhatTheModelPrints_ReachesTheCallThatCausedIt_BeforeItReturns()
    {
        using var cache = new PythonWorkerCache();
        var model = CopyOfModel();
        var code = Path.Combine(model.Path!, "code", "linear_model.py");
        File.WriteAllText(code, File.ReadAllText(code).Replace("    def predict(self, df):\n", "    def predict(self, df):\n        print('scoring', float(df['x1'].iloc[0]))\n"));
        for (int call = 1; call <= 3; call++)
        {
            var lines = new List<string>();
            using (var scorer = PythonScorer.Begin(model, Options, line => { lock (lines) lines.Add(line); }, null, null, cache, null))
            {
                PredictionEngine.ScoreRequest(scorer, ScoringRequest.Parse($"{{\"dataframe_split\": {{\"columns\": [\"x1\", \"x2\"], \"data\": [[{call}, 2]]}}}}"), null);
                lock (lines) Assert.Equal([$"scoring {call}.0"], lines); // already there: no waiting, nothing from another call
                Assert.Equal(call > 1, scorer.Reused);
            }
        }
    }

    [Trait("Category", "Fast")]
    [Theory]
    [InlineData(null, 300.0)]
    [InlineData("30", 30.0)]
    [InlineData("0", 0.0)]
    [InlineData("2.5", 2.5)]
    [InlineData("-1", 300.0)]
    [InlineData("soon", 300.0)]
    public void IdleTimeout_ComesFromTheEnvironment(string? value, double seconds)
    {
        var before = Environment.GetEnvironmentVariable(PythonWorkerCache.IdleVariable);
        Environment.SetEnvironmentVariable(PythonWorkerCache.IdleVariable, value);
        try { Assert.Equal(TimeSpan.FromSeconds(seconds), PythonWorkerCache.IdleFromEnvironment()); }
        finally { Environment.SetEnvironmentVariable(PythonWorkerCache.IdleVariable, before); }
    }
}
