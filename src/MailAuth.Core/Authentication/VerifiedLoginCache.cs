using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Core.Authentication;

/// <summary>
/// Remembers, in memory only, that an address/password pair was verified: an HMAC of both under a
/// random per-process key, tied to the credential version and hash that were verified. A hit
/// therefore never survives a password change, a disable or a removal, whichever process made
/// it, because the caller reads the current credential on every login.
/// </summary>
public sealed class VerifiedLoginCache
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<EmailAddress, Entry> _entries = new();
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;
    private readonly int _maxEntries;

    public VerifiedLoginCache(TimeSpan lifetime, TimeProvider clock, int maxEntries = 100_000)
    {
        _lifetime = lifetime;
        _clock = clock;
        _maxEntries = maxEntries;
    }

    public static VerifiedLoginCache Disabled { get; } = new(TimeSpan.Zero, TimeProvider.System);

    public bool IsEnabled => _lifetime > TimeSpan.Zero;

    public int Count => _entries.Count;

    public bool Matches(MailboxCredential current, string password)
    {
        if (!IsEnabled || !_entries.TryGetValue(current.Address, out var entry))
        {
            return false;
        }
        if (entry.Expires <= _clock.GetUtcNow() || entry.CredentialVersion != current.CredentialVersion || entry.PasswordHash != current.PasswordHash)
        {
            _entries.TryRemove(KeyValuePair.Create(current.Address, entry));
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(entry.Digest, Digest(current.Address, password));
    }

    public void Remember(MailboxCredential verified, string password)
    {
        if (!IsEnabled)
        {
            return;
        }
        if (_entries.Count >= _maxEntries)
        {
            Sweep();
        }
        _entries[verified.Address] = new Entry(
            Digest(verified.Address, password), verified.CredentialVersion, verified.PasswordHash, _clock.GetUtcNow() + _lifetime);
    }

    private void Sweep()
    {
        var now = _clock.GetUtcNow();
        foreach (var (address, entry) in _entries)
        {
            if (entry.Expires <= now)
            {
                _entries.TryRemove(KeyValuePair.Create(address, entry));
            }
        }
        if (_entries.Count >= _maxEntries)
        {
            // Still full of live entries: start over rather than grow; the cost is one Argon2 each.
            _entries.Clear();
        }
    }

    private byte[] Digest(EmailAddress address, string password)
    {
        var text = Encoding.UTF8.GetBytes(address + "\0" + password);
        try
        {
            return HMACSHA256.HashData(_key, text);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }
    }

    private sealed record Entry(byte[] Digest, long CredentialVersion, string PasswordHash, DateTimeOffset Expires);
}
