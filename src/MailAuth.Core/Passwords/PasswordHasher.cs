using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace MailAuth.Core.Passwords;

/// <summary>
/// Hashes with Argon2id through libsodium and verifies every <see cref="PasswordScheme"/>. Stateless
/// apart from the lazily computed dummy hash, so one instance serves all threads. Each call costs
/// one full Argon2 computation: callers run it on a bounded pool, never on I/O threads.
/// </summary>
internal sealed class PasswordHasher : IPasswordHasher
{
    private readonly HashingOptions _options;
    private readonly Lazy<string> _dummyHash;

    /// <summary>For dependency injection; see <see cref="PasswordHasher(HashingOptions)"/>.</summary>
    public PasswordHasher(IOptions<HashingOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <exception cref="OptionsValidationException">The options are invalid (the message lists why).</exception>
    /// <exception cref="PasswordHashingUnavailableException">libsodium cannot be loaded.</exception>
    public PasswordHasher(HashingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(HashingOptions.SectionName, typeof(HashingOptions), errors);
        }

        // Copy: a later change to the bound object must not change the parameters half-way.
        _options = new HashingOptions
        {
            MemoryKiB = options.MemoryKiB,
            Iterations = options.Iterations,
            Parallelism = options.Parallelism,
            Workers = options.Workers,
            MaxQueuedVerifications = options.MaxQueuedVerifications,
        };
        LibSodium.EnsureAvailable();
        _dummyHash = new Lazy<string>(CreateDummyHash, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string DummyHash => _dummyHash.Value;

    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return "{ARGON2ID}" + LibSodium.HashArgon2Id(password, _options.Iterations, _options.MemoryKiB);
    }

    /// <summary>
    /// Never throws on bad stored data: an unparseable hash is "no match", after verifying the dummy
    /// hash so that it takes as long as a wrong password.
    /// </summary>
    public PasswordCheck Verify(string storedHash, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!StoredPasswordHash.TryParse(storedHash, out var hash, out _))
        {
            _ = LibSodium.Verify(DummyHashValue, password);
            return new PasswordCheck(Matches: false, NeedsRehash: false);
        }

        bool matches = hash.Scheme switch
        {
            PasswordScheme.Argon2Id or PasswordScheme.Argon2I => LibSodium.Verify(hash.Value, password),
            PasswordScheme.BlfCrypt or PasswordScheme.Sha512Crypt or PasswordScheme.Sha256Crypt =>
                LibCrypt.Verify(hash.Value, password),
            PasswordScheme.Plain => PlainEquals(hash.Value, password),
            _ => false,
        };
        return new PasswordCheck(matches, matches && NeedsRehash(hash));
    }

    private string DummyHashValue => DummyHash["{ARGON2ID}".Length..];

    private bool NeedsRehash(StoredPasswordHash hash) =>
        hash.Scheme != PasswordScheme.Argon2Id
        // libsodium's needs_rehash compares m and t only, not the lane count.
        || hash.Argon2?.Parallelism != _options.Parallelism
        || LibSodium.NeedsRehash(hash.Value, _options.Iterations, _options.MemoryKiB);

    private string CreateDummyHash() => Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    /// <summary>
    /// Compares the UTF-8 bytes in constant time. Both sides are copied into zeroed buffers of the
    /// same (larger) length so that the comparison always runs to the end; the lengths are compared
    /// separately, without branching early.
    /// </summary>
    private static bool PlainEquals(string stored, string password)
    {
        using var storedBytes = new SensitiveUtf8(stored, stackalloc byte[256]);
        using var passwordBytes = new SensitiveUtf8(password, stackalloc byte[256]);
        int length = Math.Max(storedBytes.Length, passwordBytes.Length);
        // Pinned so that the garbage collector never leaves a moved copy behind before it is wiped.
        byte[] padded = GC.AllocateArray<byte>(2 * length, pinned: true);
        try
        {
            storedBytes.Bytes.CopyTo(padded);
            passwordBytes.Bytes.CopyTo(padded.AsSpan(length));
            bool sameBytes = CryptographicOperations.FixedTimeEquals(padded.AsSpan(0, length), padded.AsSpan(length));
            return sameBytes & (storedBytes.Length == passwordBytes.Length);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padded);
        }
    }
}
