using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Imap.Commands;

/// <summary>AUTHENTICATE mechanism [initial-response] (§6.2.2, RFC 4959 SASL-IR).</summary>
internal sealed class AuthenticateCommand : IImapCommand
{
    public string Name => "AUTHENTICATE";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadAtom();
        byte[]? initial = null;
        if (arguments.TryConsume(' '))
        {
            var text = arguments.ReadWhile(c => c is > 0x20 and < 0x7f);
            if (!SaslLogin.TryDecodeInitialResponse(Encoding.ASCII.GetBytes(text), out var data, out var refusal))
            {
                arguments.ExpectEnd();
                await ImapLogin.AnswerAsync(session, tag, refusal!, cancellationToken);
                return;
            }
            initial = data;
        }
        arguments.ExpectEnd();
        var mechanism = SaslMechanism.Create(name);
        if (mechanism is null)
        {
            session.Write($"{tag} NO Unsupported authentication mechanism, use one of {string.Join(' ', SaslMechanism.Names)}\r\n");
            return;
        }
        if (!ImapLogin.CheckPrivacy(session, tag))
        {
            return;
        }
        var outcome = await new SaslLogin(session.Authenticator).RunAsync(mechanism, initial, async (challenge, ct) =>
        {
            session.Write($"+ {SaslConversation.Encode(challenge)}\r\n");
            if (!await session.FlushAsync(ct))
            {
                return new SaslReply(SaslReplyKind.Disconnected, []);
            }
            var line = await session.ReadContinuationLineAsync(ct);
            return line is not null ? SaslConversation.Decode(line) : new SaslReply(SaslReplyKind.Disconnected, []);
        }, ImapLogin.Client(session, mechanism.Name), cancellationToken);
        await ImapLogin.AnswerAsync(session, tag, outcome, cancellationToken);
    }
}
