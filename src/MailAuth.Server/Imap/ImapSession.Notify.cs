namespace MailAuth.Server.Imap;

/// <summary>NOTIFY (RFC 5465): changes are written while the session waits for its next command.</summary>
internal sealed partial class ImapSession
{
    /// <summary>The session's NOTIFY SET, or null (never set, NOTIFY NONE, or turned off by an overflow).</summary>
    public NotifyWatch? Notifications { get; set; }

    /// <summary>
    /// With NOTIFY on, waits for the first bytes of the next command and writes notifications
    /// meanwhile; false (after BYE) when the client stayed silent past the idle timeout. The read
    /// of the input is never cancelled (so no byte is lost); once it completes its bytes stay
    /// unconsumed for the command reader.
    /// </summary>
    private async Task<bool> WaitForCommandAsync(CancellationToken cancellationToken)
    {
        if (Notifications is null || Connection.HasBufferedInput())
        {
            return true;
        }
        var input = Connection.Input.ReadAsync(CancellationToken.None).AsTask();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = Task.Delay(IdleTimeout, idle.Token);
        try
        {
            while (!input.IsCompleted)
            {
                if (Notifications is { } watch)
                {
                    await watch.WriteAsync(this, cancellationToken);
                    if (!await FlushAsync(cancellationToken) || Closing)
                    {
                        return false;
                    }
                }
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var changed = Notifications?.WaitAsync(wake.Token) ?? Task.Delay(Timeout.Infinite, wake.Token);
                var first = await Task.WhenAny(input, changed, timeout);
                await wake.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
                if (first == timeout && !input.IsCompleted)
                {
                    Write("* BYE Idle timeout, closing the connection\r\n");
                    await FlushAsync(cancellationToken);
                    return false;
                }
            }
        }
        finally
        {
            await idle.CancelAsync();
        }
        if (input.IsCompletedSuccessfully)
        {
            Connection.Input.AdvanceTo((await input).Buffer.Start);
        }
        // A failed read fails again for the command reader, which ends the session its usual way.
        return true;
    }
}
