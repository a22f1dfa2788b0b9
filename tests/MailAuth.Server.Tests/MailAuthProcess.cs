using System.Diagnostics;
using System.Text;
using MailAuth.Core.Storage;
using MailAuth.Server.Cli;

namespace MailAuth.Server.Tests;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// The <c>mailauth</c> command line on a private data directory with cheap Argon2 parameters: run
/// in this process by default (<see cref="Environment"/> becomes configuration keys over the files),
/// or as the real program in a separate process, exactly as an admin would run it, with
/// <see cref="OutOfProcess"/> or <see cref="Umask"/>.
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

    /// <summary>
    /// A CLI (and, through <see cref="RunningServer"/>, a server) on a PostgreSQL store: the connection
    /// string goes into a 0600 file, as an operator would give it.
    /// </summary>
    public static MailAuthProcess OnPostgres(string connectionString)
    {
        var cli = new MailAuthProcess();
        var file = Path.Combine(cli.WorkingDirectory, "store.conn");
        File.WriteAllText(file, connectionString + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        cli.Environment["MailAuth__Store__Provider"] = "postgresql";
        cli.Environment["MailAuth__Store__ConnectionStringFile"] = file;
        return cli;
    }

    public string WorkingDirectory { get; }

    public string DataDirectory { get; }

    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>When set (e.g. <c>022</c>), the program starts under that umask, as from an admin's shell.</summary>
    public string? Umask { get; set; }

    /// <summary>
    /// Runs the real program for what only a process of its own has: its umask, its working
    /// directory, its signals, its own lock on the data directory, its terminal.
    /// </summary>
    public bool OutOfProcess { get; set; }

    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "mailauth.dll");

    public Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    public Task<CliResult> RunWithInputAsync(string? stdin, params string[] args) =>
        OutOfProcess || Umask is not null ? RunProgramAsync(stdin, args) : RunInProcessAsync(stdin, args);

    private async Task<CliResult> RunInProcessAsync(string? stdin, string[] args)
    {
        var input = stdin ?? "";
        using var output = new StringWriter();
        using var error = new StringWriter();
        var invocation = new CliInvocation
        {
            Output = output,
            Error = error,
            Input = new StringReader(input),
            OpenInput = () => new MemoryStream(Encoding.UTF8.GetBytes(input), writable: false),
            InputIsRedirected = () => true,
            // MailAuth__Imap__Port, as the program reads it from its environment.
            ConfigurationOverrides = Environment.ToDictionary(variable => variable.Key.Replace("__", ":", StringComparison.Ordinal), variable => (string?)variable.Value),
            // Signals belong to the test host, not to one command.
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = true,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var exitCode = await Task.Run(() => CommandLine.RunAsync(args, invocation), timeout.Token).WaitAsync(timeout.Token);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    private async Task<CliResult> RunProgramAsync(string? stdin, string[] args)
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
        // Commands run in this process leave their database connections pooled, open on files about to go.
        SqliteDatabase.ClearPools();
        if (Directory.Exists(WorkingDirectory))
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
    }
}
