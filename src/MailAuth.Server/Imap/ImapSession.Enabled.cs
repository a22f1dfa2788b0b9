namespace MailAuth.Server.Imap;

/// <summary>The extensions a client has turned on (RFC 5161 ENABLE, or implicitly by using them).</summary>
internal sealed partial class ImapSession
{
    /// <summary>
    /// RFC 7162 §3.1: after a CONDSTORE enabling command, every untagged FETCH caused by a STORE,
    /// an implicit \Seen or another session carries UID and MODSEQ, until the connection ends.
    /// </summary>
    public bool CondstoreEnabled { get; private set; }

    /// <summary>RFC 7162 §3.2: QRESYNC implies CONDSTORE; expunges are announced as VANISHED.</summary>
    public bool QresyncEnabled { get; private set; }

    /// <summary>
    /// RFC 7162 §3.1: the first CONDSTORE enabling command with a mailbox selected is answered with
    /// the mailbox's HIGHESTMODSEQ, so that the client knows where its cache stands (SELECT, which
    /// reports the new mailbox's own, passes false).
    /// </summary>
    public void EnableCondstore(bool announce = true)
    {
        if (announce && !CondstoreEnabled && Selected is { } selected)
        {
            Write($"* OK [HIGHESTMODSEQ {selected.Folder.Synchronize().HighestModSeq}] Highest mod-sequence\r\n");
        }
        CondstoreEnabled = true;
    }

    public void EnableQresync() => (QresyncEnabled, CondstoreEnabled) = (true, true);
}
