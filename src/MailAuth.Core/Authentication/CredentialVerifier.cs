using MailAuth.Core.Passwords;

namespace MailAuth.Core.Authentication;

/// <summary>
/// Checks and hashes passwords on the bounded Argon2 pool, the same way for every realm (mailboxes,
/// manager accounts): an unknown identifier and a password over the length limit each cost one
/// verification against a dummy hash at the configured parameters, so neither shows in the time an
/// answer takes, and no Argon2 work ever runs outside the pool's fixed threads and bounded queue.
/// </summary>
public sealed class CredentialVerifier(IPasswordHasher hasher, HashingPool pool)
{
    /// <summary>
    /// Queues the check of <paramref name="password"/> against <paramref name="storedHash"/> (null: an
    /// unknown identifier); false, with nothing queued, when the pool's queue is full.
    /// </summary>
    public bool TryStart(string? storedHash, string password, CancellationToken cancellationToken, out Task<PasswordCheck> verification)
    {
        var hash = storedHash is not null && PasswordPolicy.IsWithinLength(password) ? storedHash : hasher.DummyHash;
        return pool.TryRun(() => hasher.Verify(hash, password), cancellationToken, out verification);
    }

    /// <summary>A new Argon2id hash at the configured parameters, or null when the pool is full (a rehash after login then waits for the next one).</summary>
    public async Task<string?> TryHashAsync(string password, CancellationToken cancellationToken) =>
        pool.TryRun(() => hasher.Hash(password), cancellationToken, out var hashing) ? await hashing : null;

    /// <summary>A new hash for a password being set; refused as busy only when the pool's queue is full.</summary>
    public async Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        await TryHashAsync(password, cancellationToken)
        ?? throw new CredentialOperationException("the server is too busy to hash a password now; try again shortly", CredentialRefusal.Busy);
}
