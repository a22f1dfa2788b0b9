using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using MailAuth.Core.Accounts;
using MailAuth.Core.Addresses;
using MailAuth.Core.Audit;
using MailAuth.Core.Authentication;
using MailAuth.Core.Notifications;

namespace MailAuth.Core.Storage;

/// <summary>Login-identifier recovery, password-reset tokens, and the notifications both send.</summary>
internal sealed partial class ManagerAccountStore
{
    /// <summary>Ends recovery: the account gets <paramref name="newLogin"/> and is back to normal.</summary>
    public async Task CompleteRecoveryAsync(AccountRecord account, EmailAddress newLogin, CancellationToken cancellationToken, string from = "")
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE accounts SET login = @login, recovery_username = NULL, credential_version = credential_version + 1, updated_at = @now
                WHERE id = @id AND recovery_username IS NOT NULL
                """;
            command.AddParameter("@login", newLogin.ToString());
            command.AddParameter("@now", Now());
            command.AddParameter("@id", account.Id);
            try
            {
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    throw new CredentialOperationException("the account is not in recovery", CredentialRefusal.NotAllowed);
                }
            }
            catch (DbException e) when (database.IsUniqueViolation(e))
            {
                throw new CredentialOperationException($"the login identifier {newLogin} is already used by another account", CredentialRefusal.Conflict);
            }
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.recovery-completed",
            account.Identifier, $"new login identifier {newLogin}{from}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A password reset request, in one transaction whether or not the identifier has an account, so
    /// both cost the same: the rate limits per identifier and per requester are checked and charged
    /// (false, nothing else written, when one is reached); for an account, its older tokens die, the
    /// new token's hash is stored and the notifications queued.
    /// </summary>
    public async Task<bool> RequestResetAsync(
        string identifierKey, string requesterNetwork, AccountRecord? account, byte[] tokenHash, DateTimeOffset expiresAt,
        IReadOnlyList<Notification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        if (!await ChargeRecoveryRequestAsync(connection, transaction,
            [("identifier", identifierKey, ResetRequestsPerIdentifier), ("requester", requesterNetwork, ResetRequestsPerRequester)], cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        if (account is null)
        {
            await journal.AuditAsync(connection, transaction, Actor.System, "account.reset-requested", identifierKey,
                "no account has this identifier; nothing sent", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        await InvalidateResetTokensAsync(connection, transaction, account.Id, cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO reset_tokens (token_hash, account_id, expires_at) VALUES (@hash, @account, @expires)";
            command.AddParameter("@hash", tokenHash);
            command.AddParameter("@account", account.Id);
            command.AddParameter("@expires", expiresAt.ToString("O", CultureInfo.InvariantCulture));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var notification in notifications)
        {
            await journal.QueueAsync(connection, transaction, notification, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.reset-requested", account.Identifier,
            "single-use reset token sent to the secondary email and phone", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Reset requests per identifier (known or not) before more are refused: a person asks once or twice.</summary>
    public const int ResetRequestsPerIdentifier = 3;

    /// <summary>Reset requests per requesting network: every one sends an email and an SMS somewhere.</summary>
    public const int ResetRequestsPerRequester = 10;

    /// <summary>Reset request counts halve every hour.</summary>
    public static readonly TimeSpan ResetRequestHalfLife = TimeSpan.FromHours(1);

    private const string ResetRealm = "reset-request";

    /// <summary>Login-identifier requests per phone number (on file or not) before more are refused.</summary>
    public const int LoginIdentifierRequestsPerPhone = 3;

    /// <summary>
    /// A forgot-login request, limited like a reset request: per phone number, and per requesting
    /// network in the same budget as reset requests (each sends an SMS and an email somewhere). False,
    /// nothing charged, when a limit is reached; a null <paramref name="requesterNetwork"/> (the
    /// admin's CLI) is limited per number only.
    /// </summary>
    public async Task<bool> TryChargeLoginIdentifierRequestAsync(string phone, string? requesterNetwork, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        List<(string Kind, string Key, int Limit)> limits = [("phone", phone, LoginIdentifierRequestsPerPhone)];
        if (requesterNetwork is not null)
        {
            limits.Add(("requester", requesterNetwork, ResetRequestsPerRequester));
        }
        if (!await ChargeRecoveryRequestAsync(connection, transaction, limits, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Checks every limit, then charges each one request; false (nothing charged) when one is reached.</summary>
    private async Task<bool> ChargeRecoveryRequestAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<(string Kind, string Key, int Limit)> limits, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var (kind, key, limit) in limits)
        {
            var score = await ThrottleScoreTable.ReadAsync(connection, transaction, ResetRealm, kind, key, now, ResetRequestHalfLife, cancellationToken);
            if (ThrottlePolicy.Reached(score, limit))
            {
                return false;
            }
        }
        foreach (var (kind, key, limit) in limits)
        {
            await ThrottleScoreTable.AddAsync(connection, transaction, ResetRealm, kind, key, 1, ThrottlePolicy.Cap(limit), now, ResetRequestHalfLife, cancellationToken);
        }
        return true;
    }

    /// <summary>Every unused token of the account stops working (a newer request, a password change).</summary>
    private async Task InvalidateResetTokensAsync(
        DbConnection connection, DbTransaction transaction, long accountId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE reset_tokens SET used_at = @now WHERE account_id = @account AND used_at IS NULL";
        command.AddParameter("@now", Now());
        command.AddParameter("@account", accountId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The account a valid, unused, unexpired token belongs to, or null.</summary>
    public async Task<AccountRecord?> FindByResetTokenAsync(byte[] tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AccountColumns} FROM accounts
            WHERE id = (SELECT account_id FROM reset_tokens WHERE token_hash = @hash AND used_at IS NULL AND expires_at > @now)
            """;
        command.AddParameter("@hash", tokenHash);
        command.AddParameter("@now", Now());
        return (await ReadAccountsAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Uses the token and sets the password in one transaction; false when the token was used or expired meanwhile.</summary>
    public async Task<EmailAddress?> CompleteResetAsync(
        byte[] tokenHash, AccountRecord account, string accountHash, string mailboxHash, CancellationToken cancellationToken, string from = "")
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        await using (var use = connection.CreateCommand())
        {
            use.Transaction = transaction;
            use.CommandText = """
                UPDATE reset_tokens SET used_at = @now
                WHERE token_hash = @hash AND account_id = @account AND used_at IS NULL AND expires_at > @now
                """;
            use.AddParameter("@now", Now());
            use.AddParameter("@hash", tokenHash);
            use.AddParameter("@account", account.Id);
            if (await use.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new CredentialOperationException("the reset token is invalid, used or expired", CredentialRefusal.FailedCredentials);
            }
        }
        await SetAccountHashAsync(connection, transaction, account.Id, accountHash, cancellationToken);
        var unified = await UnifiedMailboxAsync(connection, transaction, account.Id, cancellationToken);
        if (unified is { } mailbox)
        {
            await SetMailboxHashAsync(connection, transaction, mailbox.Id, mailboxHash, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, Actor.Account(account.Identifier), "account.password-reset", account.Identifier,
            (unified is null ? "reset with a single-use token" : $"reset with a single-use token; unified mailbox {unified.Value.Address} changed too") + from,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return unified?.Address;
    }

    public async Task QueueAsync(IReadOnlyList<Notification> notifications, Actor actor, string @event, string subject, string reason, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        foreach (var notification in notifications)
        {
            await journal.QueueAsync(connection, transaction, notification, cancellationToken);
        }
        await journal.AuditAsync(connection, transaction, actor, @event, subject, reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The login identifier stops working; the holder gets a recovery username (initials and
    /// digits) by email to the secondary address and by SMS, and logs in with it and the unchanged password.
    /// </summary>
    private async Task StartRecoveryAsync(
        DbConnection connection, DbTransaction transaction, AccountRecord account, string reason, CancellationToken cancellationToken)
    {
        await DissolveAsync(connection, transaction, "account_id = @account", account.Id, null, Actor.System,
            "the account's login identifier stopped working", cancellationToken);
        var initials = ContactDetails.Initials(account.Name);
        string recoveryUsername;
        while (true)
        {
            recoveryUsername = initials + RandomNumberGenerator.GetInt32(100_000, 1_000_000).ToString(CultureInfo.InvariantCulture);
            await using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE accounts SET former_login = login, login = NULL, recovery_username = @recovery,
                    credential_version = credential_version + 1, updated_at = @now
                WHERE id = @id
                """;
            update.AddParameter("@recovery", recoveryUsername);
            update.AddParameter("@now", Now());
            update.AddParameter("@id", account.Id);
            try
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
                break;
            }
            catch (DbException e) when (database.IsUniqueViolation(e))
            {
                // That recovery username is taken: draw other digits.
            }
        }

        var message = $"The login identifier {account.Login} of your manager account no longer works ({reason}). " +
                      $"Log in with the username {recoveryUsername} and your usual password, which has not changed, " +
                      "then choose a new login identifier.";
        await journal.QueueAsync(connection, transaction,
            new Notification(NotificationChannel.Email, account.SecondaryEmail, "Your login identifier is being changed", message), cancellationToken);
        await journal.QueueAsync(connection, transaction,
            new Notification(NotificationChannel.Sms, account.Phone, "Login identifier changed", message), cancellationToken);
        await journal.AuditAsync(connection, transaction, Actor.System, "account.recovery-started", account.Login!.ToString(),
            $"{reason}; recovery username issued", cancellationToken);
    }
}
