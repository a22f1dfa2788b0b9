namespace MailAuth.Server.Imap;

/// <summary>CAPABILITY (RFC 3501 §6.1.1).</summary>
internal sealed class CapabilityCommand : IImapCommand
{
    public string Name => "CAPABILITY";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* CAPABILITY {session.Capabilities()}\r\n");
        session.Tagged(tag, $"OK CAPABILITY completed");
        return Task.CompletedTask;
    }
}

/// <summary>NOOP (§6.1.2): also the polling point where a selected folder's changes are reported.</summary>
internal sealed class NoopCommand : IImapCommand
{
    public string Name => "NOOP";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Selected?.WriteUpdates(session, allowExpunge: true);
        session.Tagged(tag, $"OK NOOP completed");
        return Task.CompletedTask;
    }
}

/// <summary>LOGOUT (§6.1.3).</summary>
internal sealed class LogoutCommand : IImapCommand
{
    public string Name => "LOGOUT";

    public bool SendsUpdatesAfter => false;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectEnd();
        session.Write($"* BYE MailAuth logging out\r\n");
        session.Tagged(tag, $"OK LOGOUT completed");
        session.Logout();
        session.Closing = true;
        return Task.CompletedTask;
    }
}

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
        session.Tagged(tag, $"OK ID completed");
        return Task.CompletedTask;
    }
}
