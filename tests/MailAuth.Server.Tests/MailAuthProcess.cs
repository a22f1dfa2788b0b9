using System.Diagnostics;
using System.Text;

namespace MailAuth.Server.Tests;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// The real <c>mailauth</c> program, run as a separate process on a private data directory with
/// cheap Argon2 parameters, exactly as an admin would run it.
/// </summary>
internal sealed class MailAuthProcess : IDisposable
{
    public MailAuthProcess()
    {
        WorkingDirectory = Path.Combine(Path.GetTempPath(), "mailauth-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(WorkingDirectory);
        DataDirectory = Path.Combine(WorkingDirectory, "data");
        Environment["MailAuth__DataDirectory"] = DataDirectory;
        Environment["MailAuth__Hashing__MemoryKiB"] = "1024";
        Environment["MailAuth__Hashing__Iterations"] = "1";
    }

    public string WorkingDirectory { get; }

    public string DataDirectory { get; }

    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>When set (e.g. <c>022</c>), the program starts under that umask, as from an admin's shell.</summary>
    public string? Umask { get; set; }

    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "mailauth.dll");

    public Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    public async Task<CliResult> RunWithInputAsync(string? stdin, params string[] args)
    {
        using var process = Start(args);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Umask is null ? "dotnet" : "/bin/sh")
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        if (Umask is not null)
        {
            // exec: the process id stays the program's, for signals and /proc.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"umask {Umask} && exec dotnet \"$@\"");
            start.ArgumentList.Add("sh");
        }
        start.ArgumentList.Add(ProgramPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start mailauth");
    }

    /// <summary>Every byte the program keeps on disk, for scanning for secrets.</summary>
    public byte[] AllStoredBytes()
    {
        var buffer = new MemoryStream();
        foreach (var file in Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.CopyTo(buffer);
        }
        return buffer.ToArray();
    }

    public void Dispose()
    {
        if (Directory.Exists(WorkingDirectory))
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
    }
}
