using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>APPEND (§6.3.11) with APPENDUID (RFC 4315); the message literal arrives as a file in tmp/.</summary>
internal sealed class AppendCommand : IImapCommand
{
    public string Name => "APPEND";

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var name = arguments.ReadMailbox();
        arguments.ExpectSpace();
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
        var literal = arguments.TakeLiteral();
        arguments.ExpectEnd();
        var folder = session.RequireStore().Open(name);
        if (folder is null)
        {
            session.Tagged(tag, ImapStatus.No, "No such folder", "TRYCREATE");
            return;
        }
        string file;
        if (literal.FilePath is not null)
        {
            file = literal.TakeFile();
        }
        else
        {
            file = Path.Combine(session.RequireStore().Root, "tmp", $"imap-append-{Guid.NewGuid():N}");
            await using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await stream.WriteAsync(literal.Data, cancellationToken);
            DurableFile.FlushToDisk(stream);
        }
        try
        {
            var uid = folder.Add(file, flags, keywords, date);
            var validity = folder.Synchronize().UidValidity;
            session.Tagged(tag, ImapStatus.Ok, "APPEND completed", $"APPENDUID {validity} {uid}");
        }
        finally
        {
            File.Delete(file); // Gone already when it was moved into the folder.
        }
    }
}
