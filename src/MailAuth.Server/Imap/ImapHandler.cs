using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Maildir;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Imap;

/// <summary>The IMAP side of the listeners on Imap:Port (STARTTLS) and Imap:TlsPort (implicit TLS).</summary>
internal sealed class ImapHandler(
    MailAuthOptions options,
    TlsContext tls,
    MailAuthenticator authenticator,
    MaildirLocator locator,
    MaildirFolders folders,
    MailboxSessions sessions,
    MailboxQuota quota,
    ILogger<ImapHandler> logger) : IProtocolHandler
{
    private readonly ImapCommands _commands = ImapCommands.CreateDefault();

    public Task RunSessionAsync(ProtocolConnection connection, CancellationToken cancellationToken) =>
        new ImapSession(connection, options.Imap, tls, authenticator, locator, folders, _commands, sessions, quota, logger).RunAsync(cancellationToken);

    public async Task RejectAsync(ProtocolConnection connection, string reason, CancellationToken cancellationToken) =>
        await connection.WriteAndFlushAsync("* BYE Too many connections from your address\r\n", cancellationToken);
}
