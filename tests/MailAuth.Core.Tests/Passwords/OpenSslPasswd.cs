using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace MailAuth.Core.Tests.Passwords;

/// <summary>
/// Runs <c>openssl passwd</c>, an independent SHA-crypt implementation present on every machine of
/// this kind. A missing tool fails the test with a clear message: it is never silently skipped.
/// </summary>
internal static class OpenSslPasswd
{
    /// <param name="algorithm">"-6" (SHA512-CRYPT) or "-5" (SHA256-CRYPT).</param>
    /// <param name="salt">A salt, optionally "rounds=N$salt"; null lets openssl pick a random one.</param>
    public static string Hash(string algorithm, string password, string? salt = null)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            UseShellExecute = false,
        };
        start.ArgumentList.Add("passwd");
        start.ArgumentList.Add(algorithm);
        if (salt is not null)
        {
            start.ArgumentList.Add("-salt");
            start.ArgumentList.Add(salt);
        }

        // The password goes through standard input, one line, so that any UTF-8 is passed intact.
        start.ArgumentList.Add("-stdin");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot run openssl (needed to make SHA-crypt hashes with an independent tool): {e.Message}");
            throw;
        }

        using (process)
        {
            process.StandardInput.Write(password + "\n");
            process.StandardInput.Close();
            string output = process.StandardOutput.ReadToEnd().Trim();
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"openssl passwd {algorithm} failed: {errors}");
            return output;
        }
    }
}
