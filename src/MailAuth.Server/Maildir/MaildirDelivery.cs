using System.Data.Common;
using System.Runtime.InteropServices;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Maildir;

/// <summary>
/// Delivers a message into a mailbox's INBOX the Maildir way: written and fsynced in tmp/, then
/// renamed into new/ and the directory fsynced, so that a delivery reported as done survives a
/// crash or power cut, and a reader never sees half a message. A mailbox being moved to another
/// node refuses the copy with <see cref="MailboxMovingException"/> (<paramref name="moves"/> is null
/// only in tests that deliver without a store).
/// </summary>
internal sealed partial class MaildirDelivery(MaildirLocator locator, MaildirFolders folders, IMailboxMoves? moves = null)
{
    private static long _sequence;

    /// <summary>Copies <paramref name="message"/> (from its current position) into the INBOX; returns the file's path in new/.</summary>
    public async Task<string> DeliverAsync(EmailAddress recipient, Stream message, CancellationToken cancellationToken)
    {
        var root = locator.InboxPath(recipient);
        EnsureMaildir(root);
        var unique = UniqueName();
        var temporary = Path.Combine(root, "tmp", unique);
        try
        {
            long size;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await message.CopyToAsync(file, cancellationToken);
                size = file.Length;
                DurableFile.FlushToDisk(file);
            }
            await RefuseIfMovingAsync(recipient, cancellationToken);
            // ",S=" is the Maildir++ size hint readers use to skip a stat().
            var final = Path.Combine(root, "new", $"{unique},S={size}");
            File.Move(temporary, final);
            SyncDirectory(Path.Combine(root, "new"));
            folders.Get(root).Delivered();
            return final;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Asked once the copy is in tmp/, just before the rename that makes it count: <c>mailbox move</c>
    /// sets the mark, then renames the Maildir aside, so a delivery that asked before the mark fails
    /// its own rename (its tmp/ went along) and none can land in a Maildir already copied.
    /// </summary>
    private async Task RefuseIfMovingAsync(EmailAddress recipient, CancellationToken cancellationToken)
    {
        bool moving;
        try
        {
            moving = moves is not null && await moves.IsMovingAsync(recipient, cancellationToken);
        }
        catch (DbException e)
        {
            throw new IOException($"cannot tell whether {recipient} is being moved: the store does not answer", e);
        }
        if (moving)
        {
            throw new MailboxMovingException(recipient);
        }
    }

    public static void EnsureMaildir(string root)
    {
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(root, sub));
        }
    }

    /// <summary>time.M{microseconds}P{pid}Q{sequence}.host, as in the Maildir specification.</summary>
    private static string UniqueName()
    {
        var now = DateTimeOffset.UtcNow;
        var micro = now.Ticks / 10 % 1_000_000;
        var host = Environment.MachineName.Replace('/', '\u2215').Replace(':', '\u2236');
        return $"{now.ToUnixTimeSeconds()}.M{micro}P{Environment.ProcessId}Q{Interlocked.Increment(ref _sequence)}.{host}";
    }

    /// <summary>fsync(2) on a directory makes a rename in it durable; .NET has no API for it.</summary>
    public static void SyncDirectory(string path)
    {
        var fd = Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync {path} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
