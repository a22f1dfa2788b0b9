using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Imap.Commands;

/// <summary>STARTTLS (RFC 3501 §6.2.1, RFC 2595).</summary>
internal sealed class StartTlsCommand : IImapCommand
{
    public string Name => "STARTTLS";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        if (session.Connection.IsSecure)
        {
            session.Write($"{tag} BAD TLS is already active\r\n");
            return;
        }
        session.Write($"{tag} OK Begin TLS negotiation now\r\n");
        if (!await session.FlushAsync(cancellationToken))
        {
            session.Closing = true;
            return;
        }
        var outcome = await session.Connection.StartTlsAsync(
            session.Tls.ServerOptions, session.Options.TlsHandshakeTimeout, cancellationToken);
        // Commands sent in plaintext before the handshake may have been injected by an attacker
        // (CVE-2011-0411); after a failed handshake the stream is unusable. Either way: close.
        if (outcome != StartTlsOutcome.Secure)
        {
            session.Closing = true;
        }
    }
}
