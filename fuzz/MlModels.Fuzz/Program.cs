using SharpFuzz;

namespace MlModels.Fuzz;

/// <summary>
/// Runs one parser target under afl-fuzz (SharpFuzz's out-of-process mode): <c>dotnet MlModels.Fuzz.dll TARGET</c>.
/// With <c>--replay FILE...</c> it runs the target on each file in-process and reports failures, for triage.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.All.ContainsKey(args[0]))
        {
            Console.Error.WriteLine($"usage: MlModels.Fuzz TARGET [--replay FILE...]; targets: {string.Join(", ", Targets.All.Keys)}");
            return 2;
        }
        var target = Targets.All[args[0]];
        if (args.Length > 1 && args[1] == "--replay")
        {
            // Instrumented code writes coverage into afl's shared memory; outside afl it gets a scratch map instead.
            unsafe { SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16); }
            int failed = 0;
            foreach (var file in args.Skip(2))
            {
                try { target(File.ReadAllBytes(file)); }
                catch (Exception ex) { failed++; Console.WriteLine($"{file}: {ex.GetType().FullName}: {ex.Message}\n{ex.StackTrace}"); }
            }
            Console.WriteLine($"{args.Length - 2 - failed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            target(ms.ToArray());
        });
        return 0;
    }
}
