using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Imap.Sorting;

namespace MailAuth.Server.Imap.Commands;

/// <summary>THREAD and UID THREAD (RFC 5256 §4) with the ORDEREDSUBJECT and REFERENCES algorithms.</summary>
internal sealed class ThreadCommand(bool byUid) : IImapCommand
{
    public string Name => byUid ? "UID THREAD" : "THREAD";

    public bool AllowsExpungeUpdates => byUid;

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var algorithm = arguments.ReadAtom().ToUpperInvariant();
        if (algorithm is not ("REFERENCES" or "ORDEREDSUBJECT"))
        {
            throw new ImapSyntaxException($"unknown threading algorithm '{algorithm}': REFERENCES or ORDEREDSUBJECT");
        }
        arguments.ExpectSpace();
        var charset = arguments.ReadAString();
        arguments.ExpectSpace();
        var key = SearchKey.ParseProgram(arguments, session.Options.MaxSearchKeys);
        if (!SearchMatcher.IsSupportedCharset(charset))
        {
            session.Tagged(tag, ImapStatus.No, "Unsupported charset", SearchMatcher.BadCharsetCode);
            return Task.CompletedTask;
        }
        var selected = session.RequireSelected();
        var budget = new SearchBudget(session.Options.MaxSearchTime);
        var messages = new List<ThreadMessage>();
        using var headerCache = CachedFetch.Reader(session, selected);
        foreach (var index in SearchMatcher.Matching(selected, key, budget, headerCache))
        {
            budget.Check();
            var uid = selected.Uids[index];
            if (selected.Message(uid) is not { } message)
            {
                continue;
            }
            var headers = SortHeaders.Of(selected, message, headerCache);
            var (subject, replyOrForward) = BaseSubject.FromHeader(headers?.Header("Subject"));
            var references = MessageIds.Parse(headers?.Header("References"));
            if (references.Count == 0 && MessageIds.First(headers?.Header("In-Reply-To")) is { } inReplyTo)
            {
                references.Add(inReplyTo);
            }
            messages.Add(new ThreadMessage(index, MessageIds.First(headers?.Header("Message-ID")), references, SentDate.Of(headers, message), subject, replyOrForward));
        }
        var threads = algorithm == "REFERENCES" ? ReferencesThreader.Thread(messages, budget) : OrderedSubjectThreader.Thread(messages);
        var text = ThreadNode.Format(threads, i => byUid ? selected.Uids[i] : (uint)(i + 1));
        session.Write(text.Length == 0 ? "* THREAD\r\n" : $"* THREAD {text}\r\n");
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }
}
