using MailAuth.Server.Tests.Hostile;

namespace MailAuth.Server.Tests.Cli;

/// <summary>The provider's example over a real IMAP connection to the running server.</summary>
[TestFixture]
public sealed class UnificationOverImapTests
{
    private const string Julie = "julie@entreprise-familiale.xyz";

    [Test]
    public async Task TheAccountPasswordOpensImapOnlyOnceUnified()
    {
        await using var server = await RunningServer.StartAsync();
        await server.Cli.RunAsync("domain", "add", "entreprise-familiale.xyz");
        await server.Cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", Julie);
        await server.Cli.RunWithInputAsync("Account-1\n", "account", "add", Julie, "--name", "Julie Martin",
            "--phone", "+41791234567", "--secondary-email", "julie.martin@yahoo.example");
        await server.Cli.RunAsync("account", "grant", Julie, Julie, "--can-change-password");

        Assert.That(await ImapLoginAsync(server, "Account-1"), Does.StartWith("a NO [AUTHENTICATIONFAILED]"));
        Assert.That(await ImapLoginAsync(server, "123-Abc"), Does.StartWith("a OK"));

        var unified = await server.Cli.RunWithInputAsync("Unified-2\n", "account", "set-mailbox-password", Julie, Julie, "--unify");
        Assert.That(unified.ExitCode, Is.Zero, unified.ToString());
        Assert.That(await ImapLoginAsync(server, "Unified-2"), Does.StartWith("a OK"));

        await server.Cli.RunWithInputAsync("Through-Account-3\n", "account", "passwd", Julie);
        Assert.That(await ImapLoginAsync(server, "Through-Account-3"), Does.StartWith("a OK"), "a change through the account changes the mailbox");
        Assert.That(await ImapLoginAsync(server, "Unified-2"), Does.StartWith("a NO"));

        await server.Cli.RunWithInputAsync("Toto-1\n", "account", "add", "toto@yahoo.example", "--name", "Toto",
            "--phone", "+41790000002", "--secondary-email", "toto@gmail.example");
        await server.Cli.RunAsync("account", "grant", "toto@yahoo.example", Julie);
        await server.Cli.RunWithInputAsync("Account-Only-4\n", "account", "passwd", Julie);
        Assert.That(await ImapLoginAsync(server, "Through-Account-3"), Does.StartWith("a OK"), "dissolved: the mailbox keeps its password");
        Assert.That(await ImapLoginAsync(server, "Account-Only-4"), Does.StartWith("a NO"));
    }

    private static async Task<string?> ImapLoginAsync(RunningServer server, string password)
    {
        await using var imap = await LineConnection.OpenAsync(server.ImapsPort, tls: true);
        await imap.ReadLineAsync();
        await imap.SendAsync($"a LOGIN {Julie} \"{password}\"\r\n");
        while (await imap.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("a ", StringComparison.Ordinal))
            {
                return line;
            }
        }
        return null;
    }
}
