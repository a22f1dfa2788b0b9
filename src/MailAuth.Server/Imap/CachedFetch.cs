using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Mime;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>How a message's FETCH response came out of the header cache.</summary>
internal enum CachedFetchOutcome
{
    Written,

    /// <summary>The message cannot be cached (a very long or odd header): it is answered from its file.</summary>
    NotCached,

    /// <summary>Not cached yet and its file is gone (expunged behind our back): no response, as without the cache.</summary>
    Gone,
}

/// <summary>
/// A FETCH whose items all come from the index and the folder's <see cref="HeaderCache"/> (the
/// message-list FETCH: UID, FLAGS, RFC822.SIZE, INTERNALDATE, MODSEQ, ENVELOPE, BODYSTRUCTURE, BODY,
/// BODY[HEADER.FIELDS (…)] of the cached fields): a message is parsed from its file only the first
/// time, and its records are added for every later FETCH and SEARCH of any session. The responses
/// are the bytes the file would give.
/// </summary>
internal sealed class CachedFetch : IDisposable
{
    private readonly HeaderCacheReader _reader;
    private readonly bool _needsHeader;
    private readonly bool _needsStructure;

    /// <summary>Per item of the FETCH, the fields a HEADER.FIELDS item names (field numbers), worked out once per command.</summary>
    private readonly ulong[] _fieldMasks;

    private CachedFetch(HeaderCacheReader reader, bool needsHeader, bool needsStructure, ulong[] fieldMasks)
    {
        _reader = reader;
        _needsHeader = needsHeader;
        _needsStructure = needsStructure;
        _fieldMasks = fieldMasks;
    }

    /// <summary>The header cache's reader for a search or fetch of this session, or null when <c>HeaderCache</c> is off.</summary>
    public static HeaderCacheReader? Reader(ImapSession session, SelectedFolder selected) =>
        session.Options.HeaderCache ? selected.Folder.HeaderCache.Open(selected.Snapshot.UidValidity, selected.Snapshot.Messages) : null;

    /// <summary>A cached FETCH for these items, or null when one of them needs the message file (or the cache is off).</summary>
    public static CachedFetch? For(ImapSession session, SelectedFolder selected, IReadOnlyList<FetchAttribute> attributes)
    {
        var (header, structure) = (false, false);
        var fieldMasks = new ulong[attributes.Count];
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            switch (attribute.Kind)
            {
                case FetchKind.Flags or FetchKind.Uid or FetchKind.InternalDate or FetchKind.Rfc822Size or FetchKind.ModSeq:
                    break;
                case FetchKind.Envelope:
                    header = true;
                    break;
                case FetchKind.BodyStructure or FetchKind.Body:
                    structure = true;
                    break;
                case FetchKind.Section when attribute.Section is { Part.Count: 0, Text: SectionText.HeaderFields } section
                    && MessageListItems.CoversAll(section.Fields):
                    header = true;
                    fieldMasks[i] = MessageListItems.MaskOf(section.Fields);
                    break;
                default:
                    return null;
            }
        }
        return (header || structure) && session.Options.HeaderCache
            ? new CachedFetch(selected.Folder.HeaderCache.Open(selected.Snapshot.UidValidity, selected.Snapshot.Messages), header, structure, fieldMasks)
            : null;
    }

    /// <summary>Writes the message's items after <c>* n FETCH (</c>; nothing when the outcome is not <see cref="CachedFetchOutcome.Written"/>.</summary>
    public CachedFetchOutcome TryWrite(ImapResponseBuilder response, IReadOnlyList<FetchAttribute> attributes, MaildirMessage message, SelectedFolder selected)
    {
        var header = _needsHeader ? _reader.Find(message, CachedPart.Header) : null;
        var structure = _needsStructure ? _reader.Find(message, CachedPart.Structure) : null;
        if ((_needsHeader && header is null) || (_needsStructure && structure is null))
        {
            var outcome = Fill(message, selected, ref header, ref structure);
            if (outcome != CachedFetchOutcome.Written)
            {
                return outcome;
            }
        }
        var headerItems = header is { } h ? CachedHeader.Read(h) : null;
        var structureItems = structure is { } s ? MessageListItems.Split(s) : null;
        if ((_needsHeader && headerItems is null) || (_needsStructure && structureItems is null))
        {
            return CachedFetchOutcome.NotCached;
        }
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            response.Append(i > 0 ? " " : "");
            switch (attribute.Kind)
            {
                case FetchKind.Envelope:
                    response.Append("ENVELOPE ").Raw(headerItems!.Value.Envelope.Span);
                    break;
                case FetchKind.BodyStructure:
                    response.Append("BODYSTRUCTURE ").Raw(structureItems!.Value.First.Span);
                    break;
                case FetchKind.Body:
                    response.Append("BODY ").Raw(structureItems!.Value.Second.Span);
                    break;
                case FetchKind.Section:
                    response.Append($"BODY[{attribute.Section}]");
                    if (attribute.PartialOffset is { } offset)
                    {
                        response.Append("<" + ImapFormat.Number(offset) + ">");
                    }
                    headerItems!.Value.WriteHeaderFields(response, _fieldMasks[i], attribute.PartialOffset, attribute.PartialLength);
                    break;
                default:
                    FetchCommand.Write(response, attribute, message, null, null, selected);
                    break;
            }
        }
        return CachedFetchOutcome.Written;
    }

    /// <summary>Parses the message file once and adds the records it lacks.</summary>
    private CachedFetchOutcome Fill(MaildirMessage message, SelectedFolder selected, ref ReadOnlyMemory<byte>? header, ref ReadOnlyMemory<byte>? structure)
    {
        if (selected.Folder.FilePathOf(message.Uid) is not { } path)
        {
            return CachedFetchOutcome.Gone;
        }
        using var file = OpenFile(path);
        if (file is null)
        {
            return CachedFetchOutcome.Gone;
        }
        var parsed = MimeEntity.Parse(MimeSource.FromFile(file));
        if (_needsHeader && header is null)
        {
            if (MessageListItems.HeaderPayload(parsed) is not { } made)
            {
                return CachedFetchOutcome.NotCached;
            }
            _reader.Add(message, CachedPart.Header, made);
            header = made;
        }
        if (_needsStructure && structure is null)
        {
            var made = MessageListItems.StructurePayload(parsed);
            _reader.Add(message, CachedPart.Structure, made);
            structure = made;
        }
        return CachedFetchOutcome.Written;
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenFile(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Dispose() => _reader.Dispose();
}
