using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class HashingOptionsTests
{
    [Test]
    public void DefaultsAreDovecotsAndValid()
    {
        var options = new HashingOptions();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.MemoryKiB, Is.EqualTo(65536));
            Assert.That(options.Iterations, Is.EqualTo(3));
            Assert.That(options.Parallelism, Is.EqualTo(1));
            Assert.That(options.Workers, Is.Zero);
            Assert.That(options.MaxQueuedVerifications, Is.EqualTo(256));
            Assert.That(options.Validate(), Is.Empty);
        }
    }

    [TestCase(8, 1)]
    [TestCase(4 * 1024 * 1024, 1)]
    [TestCase(19456, 2)]
    public void BoundaryValuesAreValid(int memoryKiB, int iterations)
    {
        var options = new HashingOptions { MemoryKiB = memoryKiB, Iterations = iterations };
        Assert.That(options.Validate(), Is.Empty);
    }

    [TestCase(7)]
    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(4 * 1024 * 1024 + 1)]
    public void MemoryOutOfRangeIsRefused(int memoryKiB)
    {
        var options = new HashingOptions { MemoryKiB = memoryKiB };
        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            $"MailAuth:Hashing:MemoryKiB is {memoryKiB}; it must be between 8 (libsodium's minimum of 8192 bytes) "
                + "and 4194304 (4 GiB).",
        }));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void IterationsBelowOneAreRefused(int iterations)
    {
        var options = new HashingOptions { Iterations = iterations };
        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            $"MailAuth:Hashing:Iterations is {iterations}; it must be at least 1 (libsodium's Argon2id minimum).",
        }));
    }

    [TestCase(0)]
    [TestCase(2)]
    [TestCase(4)]
    public void ParallelismOtherThanOneIsRefusedNamingLibsodium(int parallelism)
    {
        var options = new HashingOptions { Parallelism = parallelism };
        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            $"MailAuth:Hashing:Parallelism is {parallelism}; it must be 1 because libsodium computes "
                + "single-lane Argon2id hashes only.",
        }));
    }

    [Test]
    public void NegativeWorkersAreRefused()
    {
        var options = new HashingOptions { Workers = -1 };
        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:Hashing:Workers is -1; it must be 0 (one per core) or more.",
        }));
    }

    [Test]
    public void AnEmptyQueueIsRefused()
    {
        var options = new HashingOptions { MaxQueuedVerifications = 0 };
        Assert.That(options.Validate(), Is.EqualTo(new[]
        {
            "MailAuth:Hashing:MaxQueuedVerifications is 0; it must be at least 1.",
        }));
    }

    [Test]
    public void ZeroWorkersMeansOnePerCore()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(new HashingOptions { Workers = 0 }.EffectiveWorkers, Is.EqualTo(Environment.ProcessorCount));
            Assert.That(new HashingOptions { Workers = 3 }.EffectiveWorkers, Is.EqualTo(3));
        }
    }

    [Test]
    public void EveryProblemIsReportedAtOnce()
    {
        var options = new HashingOptions
        {
            MemoryKiB = 1,
            Iterations = 0,
            Parallelism = 8,
            Workers = -2,
            MaxQueuedVerifications = -1,
        };
        Assert.That(options.Validate(), Has.Count.EqualTo(5));
    }
}
