using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap;

/// <summary>The session's share of the watch on its selected folder's new/ (<see cref="NewMailWatchers"/>).</summary>
internal sealed partial class ImapSession
{
    private NewMailWatchers.Lease? _newMailWatch;

    /// <summary>True when a delivery into the selected folder's new/ wakes the session at once; false when only polling finds it.</summary>
    public bool NewMailWatched => _newMailWatch is { Watched: true };

    /// <summary>Moves the session's share to <paramref name="selected"/>'s folder (none for null); the last session to leave a folder removes its watch.</summary>
    private void WatchNewMail(MaildirFolders watched, SelectedFolder? selected)
    {
        if (ReferenceEquals(_newMailWatch?.Folder, selected?.Folder))
        {
            return;
        }
        var previous = _newMailWatch;
        _newMailWatch = selected is null ? null : watched.Watchers.Acquire(selected.Folder);
        previous?.Dispose();
    }
}
