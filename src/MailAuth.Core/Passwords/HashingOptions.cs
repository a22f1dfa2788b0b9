namespace MailAuth.Core.Passwords;

/// <summary>
/// Argon2id parameters for new hashes, bound from the <c>MailAuth:Hashing</c> configuration section.
/// The defaults are Dovecot's ARGON2ID defaults. <see cref="Validate"/> returns the problems as
/// sentences rather than throwing, so that start-up can report every bad key at once.
/// </summary>
public sealed class HashingOptions
{
    public const string SectionName = "MailAuth:Hashing";

    /// <summary>libsodium's <c>crypto_pwhash_MEMLIMIT_MIN</c> is 8192 bytes.</summary>
    public const int MinMemoryKiB = 8;

    /// <summary>4 GiB: beyond this one login could exhaust the memory of any ordinary server.</summary>
    public const int MaxMemoryKiB = 4 * 1024 * 1024;

    /// <summary>Memory per hash in KiB (libsodium takes bytes: this × 1024).</summary>
    public int MemoryKiB { get; set; } = 65536;

    /// <summary>Argon2 passes over the memory (libsodium's <c>opslimit</c>).</summary>
    public int Iterations { get; set; } = 3;

    /// <summary>Argon2 lanes. Must be 1: libsodium computes single-lane hashes only.</summary>
    public int Parallelism { get; set; } = 1;

    /// <summary>Threads that run Argon2 (the verification pool); 0 means one per logical core.</summary>
    public int Workers { get; set; }

    /// <summary>
    /// Logins waiting for a worker before new ones get a temporary failure: a queue bound rather than
    /// unbounded waiting, so that a flood of logins costs a known amount of memory.
    /// </summary>
    public int MaxQueuedVerifications { get; set; } = 256;

    /// <summary><see cref="Workers"/>, with 0 resolved to <see cref="Environment.ProcessorCount"/>.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;

    /// <summary>Every problem with these options as one sentence each; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MemoryKiB is < MinMemoryKiB or > MaxMemoryKiB)
        {
            errors.Add($"{SectionName}:MemoryKiB is {MemoryKiB}; it must be between {MinMemoryKiB} "
                + $"(libsodium's minimum of 8192 bytes) and {MaxMemoryKiB} (4 GiB).");
        }

        if (Iterations < 1)
        {
            errors.Add($"{SectionName}:Iterations is {Iterations}; it must be at least 1 (libsodium's Argon2id minimum).");
        }

        if (Parallelism != 1)
        {
            errors.Add($"{SectionName}:Parallelism is {Parallelism}; it must be 1 because libsodium computes "
                + "single-lane Argon2id hashes only.");
        }

        if (Workers < 0)
        {
            errors.Add($"{SectionName}:Workers is {Workers}; it must be 0 (one per core) or more.");
        }

        if (MaxQueuedVerifications < 1)
        {
            errors.Add($"{SectionName}:MaxQueuedVerifications is {MaxQueuedVerifications}; it must be at least 1.");
        }

        return errors;
    }
}
