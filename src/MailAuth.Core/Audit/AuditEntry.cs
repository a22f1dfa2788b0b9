namespace MailAuth.Core.Audit;

/// <summary>
/// One credential event: who did what to whom, when and why. Never holds a secret: no password,
/// hash, token or TOTP code, only the fact that one changed.
/// </summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Event, string Subject, string Reason);

/// <summary>Who performs an operation, as the audit log names them ("admin", "account:julie@…", "system").</summary>
public sealed record Actor(string Name)
{
    public static readonly Actor Admin = new("admin");
    public static readonly Actor System = new("system");

    public static Actor Account(string login) => new("account:" + login);

    /// <summary>A mailbox's holder, who proved its password (the web listener's password change).</summary>
    public static Actor MailboxHolder(string address) => new("mailbox:" + address);

    public override string ToString() => Name;
}

public interface IAuditLog
{
    Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken cancellationToken);
}
