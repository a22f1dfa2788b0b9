using System.Globalization;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Smtp.Commands;

/// <summary>EHLO (RFC 5321 §4.1.1.1): greets, resets any transaction and lists the extensions.</summary>
internal sealed class EhloCommand(TlsContext tls) : SmtpCommandHandler
{
    public override ValueTask<SmtpAction> HandleAsync(SmtpSession session, string argument, CancellationToken cancellationToken)
    {
        var name = argument.Trim();
        if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            session.Reply(SmtpReply.SyntaxEhlo);
            return ValueTask.FromResult(SmtpAction.Continue);
        }
        Greet(session, name);
        var extensions = new List<string>
        {
            "PIPELINING",
            "SIZE " + session.Options.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
            "SMTPUTF8",
        };
        if (!session.Connection.IsSecure)
        {
            extensions.Add("STARTTLS");
        }
        // RFC 4954 §4 and RFC 8314: no password in clear text, so AUTH is not offered before TLS
        // except on a network the admin declared trusted.
        if (session.AuthenticatedAddress is null && tls.AllowsPlaintextAuthentication(session.Connection))
        {
            extensions.Add("AUTH " + string.Join(' ', SaslMechanism.Names));
        }
        extensions.Add("HELP");
        session.Reply(SmtpReply.EhloGreeting(session.HostName, SmtpCommandParser.Printable(name), session.Connection.RemoteAddress));
        for (var i = 0; i < extensions.Count; i++)
        {
            session.Reply(SmtpReply.EhloExtension(extensions[i], last: i == extensions.Count - 1));
        }
        return ValueTask.FromResult(SmtpAction.Continue);
    }

    /// <summary>Shared with HELO: a new greeting aborts the transaction but keeps the login.</summary>
    public static void Greet(SmtpSession session, string name)
    {
        session.ClientName = name;
        session.Transaction = null;
        session.Advance(SmtpEvent.Greeted);
    }
}
