using System.Collections.Frozen;

namespace MailAuth.Server.Imap;

/// <summary>The session states of RFC 3501 §3.</summary>
internal enum ImapState
{
    NotAuthenticated,
    Authenticated,
    Selected,
    Logout,
}

/// <summary>
/// Which commands each state allows (RFC 3501 §6), checked before any handler runs: a command
/// in the wrong state gets BAD without touching the mailbox.
/// </summary>
internal static class ImapStateTable
{
    private static readonly string[] AnyState = ["CAPABILITY", "NOOP", "LOGOUT", "ID"];

    private static readonly string[] AuthenticatedCommands =
    [
        .. AnyState, "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE",
        "LIST", "LSUB", "STATUS", "APPEND", "NAMESPACE", "ENABLE", "IDLE", "NOTIFY",
        "GETQUOTAROOT", "GETQUOTA", "SETQUOTA",
    ];

    private static readonly FrozenDictionary<ImapState, FrozenSet<string>> Allowed = new Dictionary<ImapState, FrozenSet<string>>
    {
        [ImapState.NotAuthenticated] = ((string[])[.. AnyState, "STARTTLS", "LOGIN", "AUTHENTICATE"]).ToFrozenSet(),
        [ImapState.Authenticated] = AuthenticatedCommands.ToFrozenSet(),
        [ImapState.Selected] = ((string[])
        [
            .. AuthenticatedCommands, "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE",
            "UID FETCH", "UID SEARCH", "UID STORE", "UID COPY", "UID MOVE", "UID EXPUNGE",
            "SORT", "UID SORT", "THREAD", "UID THREAD", "CANCELUPDATE",
        ]).ToFrozenSet(),
        [ImapState.Logout] = FrozenSet<string>.Empty,
    }.ToFrozenDictionary();

    public static bool IsAllowed(ImapState state, string command) => Allowed[state].Contains(command);
}
