using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with MODSEQ and the CHANGEDSINCE and VANISHED modifiers (RFC 7162 §3.1.4, §3.2.6).</summary>
internal sealed class FetchCommand(bool byUid) : IImapCommand
{
    /// <summary>Responses are sent in pieces of about this size, so a large FETCH never sits whole in memory.</summary>
    private const int FlushThreshold = 256 * 1024;

    public string Name => byUid ? "UID FETCH" : "FETCH";

    public bool AllowsExpungeUpdates => byUid;

    public async Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var set = arguments.ReadSequenceSet();
        arguments.ExpectSpace();
        var attributes = FetchAttribute.ParseList(arguments);
        var (changedSince, vanished) = ReadModifiers(session, arguments);
        arguments.ExpectEnd();
        if (attributes.Any(a => a.Kind == FetchKind.ModSeq))
        {
            session.EnableCondstore(); // a CONDSTORE enabling command (RFC 7162 §3.1)
        }
        if (changedSince is not null && !attributes.Any(a => a.Kind == FetchKind.ModSeq))
        {
            attributes.Add(new FetchAttribute(FetchKind.ModSeq)); // CHANGEDSINCE implies MODSEQ (§3.1.4.1)
        }
        if ((byUid || (changedSince is not null)) && !attributes.Any(a => a.Kind == FetchKind.Uid))
        {
            attributes.Insert(0, new FetchAttribute(FetchKind.Uid));
        }
        var selected = session.RequireSelected();
        var indexes = selected.Resolve(set, byUid);
        if (vanished)
        {
            // RFC 7162 §3.2.6: expunged UIDs of the set, before the FETCH responses.
            var largest = selected.Snapshot.UidNext - 1;
            var gone = selected.Folder.VanishedSince(changedSince!.Value, ModSeqSyntax.Resolve(set, largest), 0);
            if (gone.Count > 0)
            {
                session.Write($"* VANISHED (EARLIER) {ModSeqSyntax.Format(gone)}\r\n");
            }
        }
        if (changedSince is { } since)
        {
            indexes = [.. indexes.Where(i => selected.Message(selected.Uids[i]) is { } m && m.ModSeq > since)];
        }

        // Reading a body marks the message \Seen (unless PEEK or EXAMINE); the new flags go in the same response.
        var seenNow = new HashSet<uint>();
        if (!selected.ReadOnly && attributes.Any(a => a.SetsSeen))
        {
            var unseen = indexes.Select(i => selected.Uids[i])
                .Where(uid => selected.Message(uid) is { } m && !m.Flags.HasFlag(MessageFlags.Seen))
                .ToList();
            foreach (var message in selected.Folder.SetFlags(unseen, flags => flags | MessageFlags.Seen))
            {
                selected.Reported(message);
                seenNow.Add(message.Uid);
            }
        }

        var written = await WriteAsync(session, selected, indexes, attributes, seenNow, cancellationToken);
        if (written.ConnectionFailed)
        {
            session.Closing = true;
            return;
        }
        if (written.UnknownEncodingIn is { } sequence)
        {
            // RFC 3516 §4.3: a transfer encoding we cannot undo fails the command.
            session.Tagged(tag, ImapStatus.No, $"Unknown Content-Transfer-Encoding in message {sequence}", "UNKNOWN-CTE");
            return;
        }
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
    }

    /// <summary>
    /// The FETCH responses for the messages at <paramref name="indexes"/> (also NOTIFY's MessageNew,
    /// RFC 5465 §5.2); <paramref name="seenNow"/> holds those whose \Seen this command just set.
    /// Stops at the first message whose BINARY part has a transfer encoding we cannot undo.
    /// </summary>
    public static async Task<FetchWriteResult> WriteAsync(ImapSession session, SelectedFolder selected, IEnumerable<int> indexes, IReadOnlyList<FetchAttribute> attributes, IReadOnlySet<uint> seenNow, CancellationToken cancellationToken)
    {
        if (IndexItemsFetch.Covers(attributes, seenNow))
        {
            return await IndexItemsFetch.WriteAsync(session, selected, indexes, attributes, cancellationToken) ? FetchWriteResult.Written : FetchWriteResult.Failed;
        }
        long pending = 0;
        using var cache = CachedFetch.For(session, selected, attributes);
        foreach (var index in indexes)
        {
            var uid = selected.Uids[index];
            if (selected.Message(uid) is not { } message)
            {
                continue; // Expunged by another session; its EXPUNGE is reported after this command.
            }
            var response = new ImapResponseBuilder();
            MimeEntity? parsed = null;
            FileStream? file = null;
            try
            {
                response.Append($"* {index + 1} FETCH (");
                var outcome = cache?.TryWrite(response, attributes, message, selected) ?? CachedFetchOutcome.NotCached;
                if (outcome == CachedFetchOutcome.Gone)
                {
                    continue; // Its file went away before it was cached, as below.
                }
                var available = true;
                for (var i = 0; i < attributes.Count && available && outcome == CachedFetchOutcome.NotCached; i++)
                {
                    var attribute = attributes[i];
                    if (NeedsContent(attribute))
                    {
#pragma warning disable CA2000 // disposed in the finally below, after the reply is written
                        file ??= Open(selected.Folder.FilePathOf(uid));
#pragma warning restore CA2000
                        available = file is not null;
                        if (available && NeedsStructure(attribute))
                        {
                            // Offsets and headers only: the file stays open, bodies are read from it as they are sent.
                            parsed ??= MimeEntity.Parse(MimeSource.FromFile(file!.SafeFileHandle));
                        }
                    }
                    if (available && attribute.Kind is FetchKind.Binary or FetchKind.BinarySize && Decoded(attribute, parsed, file!) is null)
                    {
                        return new FetchWriteResult(ConnectionFailed: false, UnknownEncodingIn: (uint)(index + 1));
                    }
                    if (available)
                    {
                        response.Append(i > 0 ? " " : "");
                        Write(response, attribute, message, parsed, file, selected);
                    }
                }
                if (!available)
                {
                    continue; // The file went away between the snapshot and now.
                }
                if (seenNow.Contains(uid))
                {
                    // The implicit \Seen is a change: its new FLAGS (and, once enabled, UID and MODSEQ; RFC 7162 §3.1) go along.
                    response.Append(attributes.Any(a => a.Kind == FetchKind.Flags) ? "" : $" FLAGS {selected.FlagsOf(message)}");
                    response.Append(session.CondstoreEnabled && !attributes.Any(a => a.Kind == FetchKind.Uid) ? $" UID {uid}" : "");
                    response.Append(session.CondstoreEnabled && !attributes.Any(a => a.Kind == FetchKind.ModSeq) ? $" MODSEQ ({message.ModSeq})" : "");
                }
                response.Append(")\r\n");
                if (!await response.WriteToAsync(session, cancellationToken))
                {
                    return FetchWriteResult.Failed;
                }
                pending += response.Length;
                if (pending > FlushThreshold)
                {
                    pending = 0;
                    if (!await session.FlushAsync(cancellationToken))
                    {
                        return FetchWriteResult.Failed;
                    }
                }
            }
            finally
            {
                if (file is not null)
                {
                    await file.DisposeAsync();
                }
            }
        }
        return FetchWriteResult.Written;
    }

    /// <summary>The fetch-modifiers <c>(CHANGEDSINCE n [VANISHED])</c>; VANISHED only for UID FETCH once QRESYNC is enabled.</summary>
    private (ulong? ChangedSince, bool Vanished) ReadModifiers(ImapSession session, ImapReader arguments)
    {
        if (!arguments.TryConsume(' '))
        {
            return (null, false);
        }
        arguments.Expect('(');
        ulong? changedSince = null;
        var vanished = false;
        do
        {
            if (arguments.TryConsumeWord("CHANGEDSINCE") && changedSince is null)
            {
                arguments.ExpectSpace();
                changedSince = arguments.ReadModSeq(allowZero: true);
                session.EnableCondstore();
            }
            else if (arguments.TryConsumeWord("VANISHED") && !vanished)
            {
                vanished = true;
            }
            else
            {
                throw new ImapSyntaxException("expected CHANGEDSINCE or VANISHED, each once");
            }
        }
        while (arguments.TryConsume(' '));
        arguments.Expect(')');
        if (vanished && !(byUid && session.QresyncEnabled && changedSince is not null))
        {
            // RFC 7162 §3.2.6: VANISHED needs UID FETCH, CHANGEDSINCE and an enabled QRESYNC.
            throw new ImapSyntaxException("VANISHED needs UID FETCH with CHANGEDSINCE after ENABLE QRESYNC");
        }
        return (changedSince, vanished);
    }

    /// <summary>BODY[], BODY.PEEK[] and RFC822 (with or without a partial) are the file as it is, without parsing it.</summary>
    private static bool NeedsStructure(FetchAttribute attribute) =>
        attribute.Kind != FetchKind.Rfc822
        && !(attribute.Kind is FetchKind.Section or FetchKind.Binary or FetchKind.BinarySize && attribute.Section is { Part.Count: 0, Text: SectionText.All });

    /// <summary>
    /// The decoded content a BINARY item names: the whole message and multipart or message/rfc822
    /// parts as they are, a leaf part's body with its transfer encoding undone; empty when there is
    /// no such part; null when the encoding is unknown.
    /// </summary>
    private static DecodedSection? Decoded(FetchAttribute attribute, MimeEntity? parsed, FileStream file)
    {
        if (parsed is null)
        {
            return new DecodedSection(MimeSource.FromFile(file.SafeFileHandle), 0, file.Length, TransferEncoding.Identity);
        }
        if (MessageFormatter.Part(parsed, attribute.Section!.Part) is not { } entity)
        {
            return new DecodedSection(parsed.Source, 0, 0, TransferEncoding.Identity);
        }
        var encoding = entity.IsMultipart || entity.IsMessage
            ? TransferEncoding.Identity
            : TransferDecoder.Parse(entity.Header("Content-Transfer-Encoding"));
        return encoding is { } known ? new DecodedSection(parsed.Source, entity.BodyStart, entity.End, known) : null;
    }

    private static bool NeedsContent(FetchAttribute attribute) =>
        attribute.Kind is not (FetchKind.Flags or FetchKind.Uid or FetchKind.InternalDate or FetchKind.Rfc822Size or FetchKind.ModSeq);

    private static FileStream? Open(string? path)
    {
        try
        {
            return path is null ? null : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>One item of a FETCH response; <paramref name="parsed"/> and <paramref name="file"/> may be null for the items the index holds.</summary>
    internal static void Write(ImapResponseBuilder response, FetchAttribute attribute, MaildirMessage message, MimeEntity? parsed, FileStream? file, SelectedFolder selected)
    {
        switch (attribute.Kind)
        {
            case FetchKind.Flags:
                response.Append("FLAGS " + selected.FlagsOf(message));
                break;
            case FetchKind.ModSeq:
                response.Append("MODSEQ (" + ImapFormat.Number((long)message.ModSeq) + ")");
                break;
            case FetchKind.Uid:
                response.Append("UID " + ImapFormat.Number(message.Uid));
                break;
            case FetchKind.InternalDate:
                response.Append("INTERNALDATE \"" + ImapReader.FormatDateTime(message.InternalDate) + "\"");
                break;
            case FetchKind.Rfc822Size:
                response.Append("RFC822.SIZE " + ImapFormat.Number(message.Size));
                break;
            case FetchKind.Envelope:
                response.Append("ENVELOPE ");
                MessageFormatter.Envelope(response, parsed!);
                break;
            case FetchKind.BodyStructure:
                response.Append("BODYSTRUCTURE ");
                MessageFormatter.Structure(response, parsed!, extensible: true);
                break;
            case FetchKind.Body:
                response.Append("BODY ");
                MessageFormatter.Structure(response, parsed!, extensible: false);
                break;
            case FetchKind.Rfc822:
                response.Append("RFC822 ").FileLiteral(file!, SectionContent.Range(0, file!.Length));
                break;
            case FetchKind.Rfc822Header:
                response.Append("RFC822.HEADER ").FileLiteral(file!, MessageFormatter.Locate(parsed!, new BodySection([], SectionText.Header, [])));
                break;
            case FetchKind.Rfc822Text:
                response.Append("RFC822.TEXT ").FileLiteral(file!, MessageFormatter.Locate(parsed!, new BodySection([], SectionText.Text, [])));
                break;
            case FetchKind.Binary:
                response.Append($"BINARY[{attribute.Section}]");
                if (attribute.PartialOffset is { } binaryOffset)
                {
                    response.Append("<" + ImapFormat.Number(binaryOffset) + ">");
                }
                response.Append(" ").DecodedLiteral(Decoded(attribute, parsed, file!)!, attribute.PartialOffset, attribute.PartialLength);
                break;
            case FetchKind.BinarySize:
                response.Append($"BINARY.SIZE[{attribute.Section}] " + ImapFormat.Number(Decoded(attribute, parsed, file!)!.Measure(null, null).Size));
                break;
            default:
                response.Append($"BODY[{attribute.Section}]");
                if (attribute.PartialOffset is { } offset)
                {
                    response.Append("<" + ImapFormat.Number(offset) + ">");
                }
                response.Append(" ");
                var content = parsed is null ? SectionContent.Range(0, file!.Length) : MessageFormatter.Locate(parsed, attribute.Section!);
                response.FileLiteral(file!, content.Partial(attribute.PartialOffset, attribute.PartialLength));
                break;
        }
    }
}

/// <summary>How writing FETCH responses ended: all written, the connection failed, or a message's transfer encoding was unknown.</summary>
internal readonly record struct FetchWriteResult(bool ConnectionFailed, uint? UnknownEncodingIn)
{
    public static FetchWriteResult Written => new(false, null);

    public static FetchWriteResult Failed => new(true, null);
}
