using System.Diagnostics;
using System.Text;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests;

/// <summary>
/// Runs a program as another local user (setpriv, util-linux): the tests run as root, and a caller
/// that is neither root nor the MTA's or nginx's user must be a real process of another uid.
/// </summary>
internal static class OtherUser
{
    public const string Nobody = "nobody";
    public const uint NobodyId = 65534;

    /// <summary>
    /// The system's python (the one on PATH may live under /root, which nobody cannot read);
    /// scripts are passed with <c>-c</c> for the same reason.
    /// </summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>
    /// Runs <paramref name="program"/> as <paramref name="user"/> with primary group <paramref name="group"/>
    /// and no other groups. Group <c>root</c> lets it open a socket of mode 0660 owned by root, as the
    /// MTA's user in the server's group would.
    /// </summary>
    public static Task<ToolResult> RunAsync(string user, string group, string program, params string[] args) =>
        ExternalClient.RunAsync("setpriv", [$"--reuid={user}", $"--regid={group}", "--clear-groups", program, .. args]);

    public static Task<ToolResult> PythonAsync(string user, string group, string script, params string[] args) =>
        RunAsync(user, group, Python, ["-c", script, .. args]);

    /// <summary>Starts python as <paramref name="user"/> with stdin and stdout redirected, for a script that waits on stdin.</summary>
    public static Process StartPython(string user, string group, string script, params string[] args)
    {
        var start = new ProcessStartInfo("setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { $"--reuid={user}", $"--regid={group}", "--clear-groups", Python, "-c", script }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start setpriv");
    }

    /// <summary>A directory every user may enter (mode 0755), for sockets another user must reach; delete it when done.</summary>
    public static string CreateTraversableDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "mailauth-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }
}
