using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>ID (RFC 2971): we say who we are; what the client says is not needed.</summary>
internal sealed class IdCommand : IImapCommand
{
    public string Name => "ID";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        if (!arguments.TryConsumeWord("NIL"))
        {
            arguments.Expect('(');
            var count = 0;
            while (!arguments.TryConsume(')'))
            {
                if (count++ > 0)
                {
                    arguments.ExpectSpace();
                }
                arguments.ReadNString();
                if (count > 60)
                {
                    throw new ImapSyntaxException("too many ID fields (RFC 2971 allows 30 pairs)");
                }
            }
        }
        arguments.ExpectEnd();
        session.Write($"* ID (\"name\" \"MailAuth\")\r\n");
        session.Tagged(tag, ImapStatus.Ok, "ID completed");
        return Task.CompletedTask;
    }
}
