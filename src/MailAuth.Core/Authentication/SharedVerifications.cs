using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;

namespace MailAuth.Core.Authentication;

/// <summary>
/// Logins that arrive while the very same address, password and stored credential are already
/// being verified wait for that verification instead of running their own: a mail client opening
/// five connections at once costs one Argon2, and its parallel logins are one guess, not five, for
/// the throttle. Keys are an HMAC under a per-process key (no password is held), extended with the
/// credential version and hash read by each login, so a change made meanwhile is never shared.
/// </summary>
internal sealed class SharedVerifications
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, Task<PasswordCheck>> _running = new(StringComparer.Ordinal);

    private int _waiting;

    /// <summary>Logins waiting for a verification they joined (for tests).</summary>
    internal int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The key of one attempt; <paramref name="credential"/> is null for an unknown address.</summary>
    public string KeyOf(string address, string password, MailboxCredential? credential)
    {
        var text = Encoding.UTF8.GetBytes(address + "\0" + password);
        try
        {
            var digest = Convert.ToHexString(HMACSHA256.HashData(_key, text));
            return credential is null ? digest : $"{digest}|{credential.CredentialVersion}|{credential.PasswordHash}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }
    }

    public bool TryJoin(string key, out Task<PasswordCheck> running) => _running.TryGetValue(key, out running!);

    public async Task<PasswordCheck> WaitAsync(Task<PasswordCheck> running, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            return await running.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Makes <paramref name="verification"/> joinable until it completes.</summary>
    public void Share(string key, Task<PasswordCheck> verification)
    {
        if (_running.TryAdd(key, verification))
        {
            _ = verification.ContinueWith(
                done => _running.TryRemove(KeyValuePair.Create(key, done)),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }
}
