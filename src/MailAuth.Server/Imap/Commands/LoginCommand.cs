using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Imap.Commands;

/// <summary>LOGIN user password (§6.2.3); quoted strings and literals ({n} and {n+}) alike.</summary>
internal sealed class LoginCommand : IImapCommand
{
    public string Name => "LOGIN";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var username = arguments.ReadAString();
        arguments.ExpectSpace();
        var password = arguments.ReadAString();
        arguments.ExpectEnd();
        if (ImapLogin.CheckPrivacy(session, tag))
        {
            var outcome = await new SaslLogin(session.Authenticator).VerifyAsync(
                username, password, ImapLogin.Client(session, "LOGIN-command"), cancellationToken);
            await ImapLogin.AnswerAsync(session, tag, outcome, cancellationToken);
        }
    }
}
