namespace MailAuth.Server.Tests.Cli;

/// <summary>The two shapes of a CLI answer: a result on stdout, or a refusal as one line on stderr.</summary>
internal static class CliAssert
{
    /// <summary>Success (or a failed test) with <paramref name="stdoutFirstLine"/> as the first line of stdout.</summary>
    public static void Expect(CliResult result, int exitCode, string stdoutFirstLine)
    {
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
            Assert.That(result.Stdout.Split('\n')[0], Is.EqualTo(stdoutFirstLine), result.ToString());
        });
    }

    /// <summary>A refusal: the exit code, nothing on stdout unless given, one line on stderr.</summary>
    public static void Refused(CliResult result, int exitCode, string? stderr, string? stdout = null)
    {
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
            Assert.That(result.Stdout.TrimEnd('\n'), Is.EqualTo(stdout ?? ""), result.ToString());
            if (stderr is not null)
            {
                Assert.That(result.Stderr, Is.EqualTo(stderr + "\n"), result.ToString());
            }
            else if (exitCode == 2)
            {
                OneErrorLine(result);
            }
        });
    }

    /// <summary>Exactly one line on stderr, starting with <c>error: </c>; returns it without the prefix.</summary>
    public static string OneErrorLine(CliResult result)
    {
        var lines = result.Stderr.TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), result.ToString());
        Assert.That(lines[0], Does.StartWith("error: "), result.ToString());
        return lines[0]["error: ".Length..];
    }
}
