using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailAuth.Core.Passwords;

namespace MailAuth.Bench;

/// <summary>
/// Verifies one Argon2id hash in a loop through the real <see cref="PasswordHasher"/>, first on one
/// thread, then on one thread per logical core, each for <paramref name="duration"/>.
/// </summary>
internal sealed class Argon2Benchmark(HashingOptions options, TimeSpan duration)
{
    private const string Password = "correct horse battery staple";

    public Argon2Report Run()
    {
        var hasher = new PasswordHasher(options);
        string hash = hasher.Hash(Password);
        VerifyOnce(hasher, hash); // warm-up: JIT, libsodium's first allocation

        var timings = new List<double>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            long start = Stopwatch.GetTimestamp();
            VerifyOnce(hasher, hash);
            timings.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        double singleRate = timings.Count / clock.Elapsed.TotalSeconds;
        int threads = Environment.ProcessorCount;
        double allCoresRate = RunOnAllCores(hasher, hash, threads);
        timings.Sort();
        return new Argon2Report(options, timings, singleRate, threads, allCoresRate);
    }

    /// <summary>Dedicated threads (not the pool, which grows slowly), released together.</summary>
    private double RunOnAllCores(PasswordHasher hasher, string hash, int threads)
    {
        long total = 0;
        using var go = new ManualResetEventSlim();
        var clock = new Stopwatch();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            go.Wait();
            int count = 0;
            while (clock.Elapsed < duration)
            {
                VerifyOnce(hasher, hash);
                count++;
            }

            Interlocked.Add(ref total, count);
        })).ToList();
        workers.ForEach(worker => worker.Start());
        clock.Start();
        go.Set();
        workers.ForEach(worker => worker.Join());
        return total / clock.Elapsed.TotalSeconds;
    }

    private static void VerifyOnce(PasswordHasher hasher, string hash)
    {
        if (!hasher.Verify(hash, Password).Matches)
        {
            throw new InvalidOperationException("the benchmark hash did not verify");
        }
    }
}

internal sealed record Argon2Report(
    HashingOptions Options, IReadOnlyList<double> SortedTimingsMs, double SingleThreadRate, int Threads, double AllCoresRate)
{
    public string Format(string source)
    {
        var ci = CultureInfo.InvariantCulture;
        double median = SortedTimingsMs[SortedTimingsMs.Count / 2];
        double machineLimit = Threads * SingleThreadRate;
        var text = new StringBuilder();
        text.AppendLine(ci, $"Argon2id verification (libsodium) - parameters from {source}");
        text.AppendLine(ci, $"  parameters          m={Options.MemoryKiB} KiB ({Options.MemoryKiB / 1024.0:0.#} MiB), t={Options.Iterations}, p={Options.Parallelism}");
        text.AppendLine(ci, $"  per verification    median {median:0.0} ms (min {SortedTimingsMs[0]:0.0}, max {SortedTimingsMs[^1]:0.0}, {SortedTimingsMs.Count} runs)");
        text.AppendLine(ci, $"  1 thread            {SingleThreadRate:0.0} verifications/s");
        text.AppendLine(ci, $"  {Threads} threads{new string(' ', Math.Max(1, 12 - Threads.ToString(ci).Length))}{AllCoresRate:0.0} verifications/s ({Threads} logical cores)");
        text.AppendLine(ci, $"  machine limit       {machineLimit:0.0} verifications/s ({Threads} x single-thread); achieved {AllCoresRate / machineLimit:P0}");
        text.AppendLine(ci, $"  Argon2 memory       {Threads * Options.MemoryKiB / 1024.0:0.#} MiB while all cores verify");
        return text.ToString();
    }
}
