using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap;

/// <summary>Reading a command through the framing reader, under the limits of the current state.</summary>
internal sealed partial class ImapSession
{
    private readonly ImapCommandReader _commandReader = new();

    /// <summary>
    /// The limits of the next read. Before login the command budget is the small pre-login budget,
    /// and it is also the longest line; after login, the larger of a maximal line and the in-memory
    /// literal limit.
    /// </summary>
    private ImapReadLimits ReadLimits => State == ImapState.NotAuthenticated
        ? new ImapReadLimits(
            PreLogin: true,
            Options.MaxLineLength,
            Options.MaxCommandBytesBeforeLogin,
            Options.MaxLiteralSizeBeforeLogin,
            Options.MaxCommandsBeforeLogin,
            IdleTimeout,
            LiteralDirectory: null)
        : new ImapReadLimits(
            PreLogin: false,
            Options.MaxLineLength,
            Math.Max(ImapCommandReader.InMemoryLiteralLimit, Options.MaxLineLength),
            Options.MaxLiteralSize,
            Options.MaxCommandsBeforeLogin,
            IdleTimeout,
            // In the mailbox's own tmp/: same file system as every folder, so APPEND is a rename.
            Store is null ? null : Path.Combine(Store.Root, "tmp"),
            User is { } user ? (bytes, ct) => Quota.AdmitsAsync(user, bytes, ct) : null);

    /// <summary>The next complete command, or null when the session must end (closed, timed out, BYE sent).</summary>
    private async Task<ImapCommandText?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await _commandReader.ReadAsync(Connection.Input, Connection.Output, ReadLimits, cancellationToken);
            switch (frame.Kind)
            {
                case ImapFrameKind.Command:
                    return frame.Command;
                case ImapFrameKind.End:
                    return null;
                case ImapFrameKind.Skipped:
                    continue;
            }
            Tagged(frame.Tag, frame.Status, frame.Text, frame.Code);
            SendTagged();
            if (!await Connection.FlushAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// A line answering a continuation request within a command (AUTHENTICATE, RFC 3501 §6.2.2), or
    /// null when the session must end. Before login it is held to the pre-login budget and a longer
    /// one ends the connection with BYE.
    /// </summary>
    public Task<byte[]?> ReadContinuationLineAsync(CancellationToken cancellationToken) =>
        _commandReader.ReadContinuationLineAsync(Connection.Input, Connection.Output, ReadLimits, cancellationToken);
}
