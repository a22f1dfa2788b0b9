using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests;

/// <summary>
/// A private instance of Debian's real Postfix (<c>test.sh</c> installs it), started as root with
/// <c>postfix -c DIR start</c>: its own configuration directory, queue, log file and a smtpd on a
/// free loopback port. Debian's own master.cf (postlog, anvil, proxymap… that smtpd relies on) is
/// used with the public port-25 listener replaced and no chroot, since a private instance has no
/// copy of /etc in its queue directory.
/// </summary>
internal sealed class PostfixInstance : IAsyncDisposable
{
    private PostfixInstance(string work, int smtpPort)
    {
        Work = work;
        SmtpPort = smtpPort;
    }

    /// <summary>The instance's directory: conf/, queue/, data/ and maillog, and the tests' own files.</summary>
    public string Work { get; }

    public string Config => Path.Combine(Work, "conf");

    public string MailLogPath => Path.Combine(Work, "maillog");

    /// <summary>The smtpd on 127.0.0.1.</summary>
    public int SmtpPort { get; }

    /// <param name="work">A new directory that the <c>postfix</c> user can traverse.</param>
    /// <param name="myHostName">Postfix's <c>myhostname</c>.</param>
    /// <param name="mainCf">The main.cf lines of the test, after the instance's own.</param>
    /// <param name="services">master.cf lines of the test, after Debian's.</param>
    public static async Task<PostfixInstance> StartAsync(string work, string myHostName, string mainCf, params string[] services)
    {
        Assert.That(File.Exists("/usr/sbin/postfix"), Is.True, "Postfix is not installed; ./test.sh installs it");
        Assert.That(Environment.UserName, Is.EqualTo("root"), "a private Postfix instance is started as root (postfix -c DIR start)");
        var postfix = new PostfixInstance(work, RunningServer.FreePort());
        var queue = Path.Combine(work, "queue");
        var data = Path.Combine(work, "data");
        Directory.CreateDirectory(postfix.Config);
        Directory.CreateDirectory(queue);
        Directory.CreateDirectory(data);
        await ExternalClient.RunAsync("chown", "postfix", data); // Postfix's data_directory belongs to mail_owner.
        await File.WriteAllTextAsync(Path.Combine(postfix.Config, "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {queue}
            data_directory = {data}
            maillog_file = {postfix.MailLogPath}
            maillog_file_prefixes = {Path.GetDirectoryName(work)}
            myhostname = {myHostName}
            mydestination =
            alias_maps =
            alias_database =
            local_recipient_maps =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4

            """ + mainCf);
        var master = (await File.ReadAllLinesAsync("/etc/postfix/master.cf"))
            .Where(line => !line.StartsWith("smtp ", StringComparison.Ordinal) && !line.StartsWith("smtp\t", StringComparison.Ordinal))
            .Select(Unchrooted)
            .Append($"127.0.0.1:{postfix.SmtpPort.ToString(CultureInfo.InvariantCulture)} inet n - n - - smtpd")
            .Concat(services);
        await File.WriteAllLinesAsync(Path.Combine(postfix.Config, "master.cf"), master);

        var start = await ExternalClient.RunAsync("/usr/sbin/postfix", "-c", postfix.Config, "start");
        Assert.That(start.ExitCode, Is.Zero, $"postfix start: {start}\n{postfix.MailLog()}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, postfix.SmtpPort);
                return postfix;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A master.cf service line with its chroot column set to n.</summary>
    private static string Unchrooted(string line)
    {
        if (line.Length == 0 || line[0] is '#' or ' ' or '\t')
        {
            return line;
        }
        var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8)
        {
            return line;
        }
        fields[4] = "n";
        return string.Join(' ', fields);
    }

    public string MailLog() => File.Exists(MailLogPath) ? File.ReadAllText(MailLogPath) : "(no maillog)";

    /// <summary>Waits for Postfix's log (written by postlogd, a little after the fact) to match <paramref name="pattern"/>.</summary>
    public async Task<bool> MailLogMatchesAsync(string pattern)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Regex.IsMatch(MailLog(), pattern))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary><c>postqueue -f</c>: every deferred message is tried again now.</summary>
    public async Task FlushQueueAsync()
    {
        var flush = await ExternalClient.RunAsync("/usr/sbin/postqueue", "-c", Config, "-f");
        Assert.That(flush.ExitCode, Is.Zero, flush.ToString());
    }

    /// <summary><c>postsuper -d ALL</c>: a test's leftovers (an undeliverable bounce) leave the queue, so a later test's flush sees only its own messages.</summary>
    public async Task EmptyQueueAsync()
    {
        var delete = await ExternalClient.RunAsync("/usr/sbin/postsuper", "-c", Config, "-d", "ALL");
        Assert.That(delete.ExitCode, Is.Zero, delete.ToString());
    }

    public async ValueTask DisposeAsync() => await ExternalClient.RunAsync("/usr/sbin/postfix", "-c", Config, "stop");
}
