using MailAuth.Core.Addresses;

namespace MailAuth.Core.Accounts;

public enum AccountState
{
    Active,

    /// <summary>The login identifier's mailbox or domain was removed here; log in with the recovery username.</summary>
    InRecovery,
}

public sealed record AccountGrant(EmailAddress Mailbox, bool CanChangePassword);

/// <summary>A manager account as shown to the admin; never carries a secret.</summary>
public sealed record ManagerAccount(
    EmailAddress? Login,
    string? RecoveryUsername,
    EmailAddress? FormerLogin,
    string Name,
    string Phone,
    string SecondaryEmail,
    bool TwoFactorEnabled,
    IReadOnlyList<AccountGrant> Grants,
    EmailAddress? UnifiedMailbox,
    long CredentialVersion = 0)
{
    public AccountState State => Login is null ? AccountState.InRecovery : AccountState.Active;

    /// <summary>What the holder types to log in now: the login identifier, or the recovery username.</summary>
    public string Identifier => Login?.ToString() ?? RecoveryUsername!;
}

/// <summary>The stored row, secrets included; stays inside Core.</summary>
internal sealed record AccountRecord(
    long Id,
    EmailAddress? Login,
    string? RecoveryUsername,
    string PasswordHash,
    string Name,
    string Phone,
    string SecondaryEmail,
    byte[]? TotpSecret,
    long CredentialVersion,
    DateTimeOffset? TotpLockedUntil = null)
{
    public string Identifier => Login?.ToString() ?? RecoveryUsername!;
}

/// <summary>The three conditions under which unification is offered (docs/ARCHITECTURE.md, "The rules").</summary>
public sealed record UnificationConditions(bool SameAddress, bool OnlyAccountWithAccess, bool MayChangePassword)
{
    public bool AllHold => SameAddress && OnlyAccountWithAccess && MayChangePassword;

    public IReadOnlyList<string> Failed =>
    [
        .. SameAddress ? [] : new[] { "the account's login identifier is not the mailbox address" },
        .. OnlyAccountWithAccess ? [] : new[] { "the account is not the only manager account with access to the mailbox" },
        .. MayChangePassword ? [] : new[] { "the account has no permission to change the mailbox password" },
    ];
}

public enum MailboxPasswordResult
{
    /// <summary>Only the mailbox password changed.</summary>
    Changed,

    /// <summary>Only the mailbox password changed, and the three conditions hold: unification is offered.</summary>
    ChangedUnificationOffered,

    /// <summary>Both passwords were set and the pair is now unified.</summary>
    Unified,

    /// <summary>The pair was already unified: both passwords changed.</summary>
    BothChangedWhileUnified,

    /// <summary>Unification was asked for but a condition fails; nothing was changed.</summary>
    UnificationRefused,
}

public sealed record MailboxPasswordOutcome(MailboxPasswordResult Result, UnificationConditions Conditions);
