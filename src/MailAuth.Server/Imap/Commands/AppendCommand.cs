using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>
/// APPEND (§6.3.11) with APPENDUID (RFC 4315), several messages at once (MULTIAPPEND, RFC 3502)
/// and messages put together from text and parts of messages already stored (CATENATE, RFC 4469).
/// Each message becomes a file in tmp/ (a large literal arrives as one); only when every one is
/// ready are they moved into the folder, so a failure keeps none of them. A message that would take
/// the mailbox over its quota is refused with [OVERQUOTA] (RFC 9208 §4.3), before its literal is read
/// when it is synchronising (<see cref="ImapSession"/>'s literal check), else once it is here.
/// </summary>
internal sealed class AppendCommand : IImapCommand
{
    public string Name => "APPEND";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        var messages = new List<AppendMessage>();
        do
        {
            arguments.ExpectSpace();
            messages.Add(ReadMessage(arguments));
        }
        while (!arguments.AtEnd);
        var store = session.RequireStore();
        var folder = store.Open(name);
        if (folder is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "TRYCREATE");
            return;
        }
        var files = new List<string>();
        try
        {
            foreach (var message in messages)
            {
                if (message.Literal is { } literal)
                {
                    files.Add(await LiteralFileAsync(store, literal, cancellationToken));
                    if (literal.Binary && BinaryToBase64.Convert(files[^1]) is var converted && converted != files[^1])
                    {
                        File.Delete(files[^1]);
                        files[^1] = converted;
                    }
                    continue;
                }
                var catenation = new Catenation(store, session.Options.MaxLiteralSize);
                var (file, refusal) = await catenation.BuildAsync(message.Parts!, cancellationToken);
                if (file is null)
                {
                    session.Tagged(tag, ImapStatus.No, refusal!.Value.Text, refusal.Value.Code);
                    return;
                }
                files.Add(file);
            }
            // Checked again with the final sizes (a CATENATE's parts, a literal sent non-synchronising);
            // the files in tmp/ are removed below, so a refusal leaves nothing behind.
            if (!await session.Quota.AdmitsAsync(session.User!, files.Sum(f => new FileInfo(f).Length), cancellationToken))
            {
                session.Tagged(tag, ImapStatus.No, "Over the mailbox's storage quota", QuotaResponses.OverQuota);
                return;
            }
            var uids = AddAll(folder, messages, files);
            var validity = folder.Synchronize().UidValidity;
            session.Tagged(tag, ImapStatus.Ok, "APPEND completed", $"APPENDUID {validity} {SequenceSet.Format(uids)}");
        }
        finally
        {
            foreach (var file in files)
            {
                File.Delete(file); // Gone already when it was moved into the folder.
            }
        }
    }

    /// <summary>append-opts SP append-data (RFC 4466 §2.3): [flag-list SP] [date-time SP] then a literal, a literal8 or CATENATE (…).</summary>
    private static AppendMessage ReadMessage(ImapReader arguments)
    {
        var flags = MessageFlags.None;
        var keywords = new List<string>();
        if (arguments.PeekIs('('))
        {
            foreach (var flag in arguments.ReadFlagList())
            {
                if (!flag.StartsWith('\\'))
                {
                    keywords.Add(KeywordMap.IsKeyword(flag) ? flag : throw new ImapSyntaxException($"keyword longer than {KeywordMap.MaxKeywordLength} characters"));
                }
                flags |= MaildirFlags.FromImap(flag);
            }
            arguments.ExpectSpace();
        }
        DateTimeOffset? date = null;
        if (arguments.PeekIs('"'))
        {
            date = arguments.ReadDateTime();
            arguments.ExpectSpace();
        }
        if (!arguments.TryConsumeWord("CATENATE"))
        {
            return new AppendMessage(flags, keywords, date, arguments.TakeLiteral(binary: true), null);
        }
        arguments.ExpectSpace();
        arguments.Expect('(');
        var parts = new List<CatenatePart>();
        do
        {
            if (arguments.TryConsumeWord("TEXT"))
            {
                arguments.ExpectSpace();
                parts.Add(new CatenatePart(arguments.TakeLiteral(), null));
            }
            else if (arguments.TryConsumeWord("URL"))
            {
                arguments.ExpectSpace();
                parts.Add(new CatenatePart(null, arguments.ReadAString()));
            }
            else
            {
                throw new ImapSyntaxException("expected TEXT or URL in CATENATE");
            }
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        return new AppendMessage(flags, keywords, date, null, parts);
    }

    /// <summary>The literal's file in tmp/: the one it was streamed to, or a new one for a small literal held in memory.</summary>
    private static async Task<string> LiteralFileAsync(MaildirStore store, ImapLiteral literal, CancellationToken cancellationToken)
    {
        if (literal.FilePath is not null)
        {
            return literal.TakeFile();
        }
        var file = Path.Combine(store.Root, "tmp", $"imap-append-{Guid.NewGuid():N}");
        await using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        await stream.WriteAsync(literal.Data, cancellationToken);
        DurableFile.FlushToDisk(stream);
        return file;
    }

    /// <summary>Moves every file into the folder, all or none (RFC 3502), with one index append.</summary>
    private static List<uint> AddAll(MaildirFolder folder, List<AppendMessage> messages, List<string> files) =>
        folder.AddAll([.. files.Select((file, i) => new NewMessage(file, messages[i].Flags, messages[i].Keywords, messages[i].Date))]);

    /// <summary>One message of the command: a literal, or the parts of a CATENATE.</summary>
    private sealed record AppendMessage(MessageFlags Flags, List<string> Keywords, DateTimeOffset? Date, ImapLiteral? Literal, List<CatenatePart>? Parts);
}

/// <summary>cat-part (RFC 4469 §5): TEXT literal or URL.</summary>
internal sealed record CatenatePart(ImapLiteral? Text, string? Url);
