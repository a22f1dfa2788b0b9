using System.Diagnostics;
using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Server.Hosting;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Imap;

internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs real mail clients (curl, python3) as separate processes.</summary>
internal static class ExternalClient
{
    public static async Task<ToolResult> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Writes <paramref name="script"/> to a temporary file; delete it with the returned path.</summary>
    public static string WriteScript(string script)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mailauth-imap-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        return path;
    }

    public static string CertificatePath(RunningServer server) => Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem");

    /// <summary>Delivers a message the way SMTP does (<see cref="MaildirDelivery"/>); returns the file's path.</summary>
    public static Task<string> DeliverAsync(RunningServer server, string address, byte[] message)
    {
        var locator = new MaildirLocator(new MailAuthOptions { DataDirectory = server.Cli.DataDirectory });
        return new MaildirDelivery(locator, new MaildirFolders()).DeliverAsync(EmailAddress.Parse(address), new MemoryStream(message), CancellationToken.None);
    }

    /// <summary>Where a delivered file lives after the server moved it from new/ to cur/ (same base name).</summary>
    public static string CurrentPath(string deliveredPath)
    {
        var maildir = Path.GetDirectoryName(Path.GetDirectoryName(deliveredPath))!;
        var baseName = Path.GetFileName(deliveredPath);
        return Directory.GetFiles(Path.Combine(maildir, "cur"), baseName + "*").Single();
    }
}
