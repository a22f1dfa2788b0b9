using System.Text;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Tests.Maildir;

/// <summary>
/// The header cache file (mailauth-headercache): records read back after a restart only for the
/// message they were made of (UID, base name, size, UIDVALIDITY); a torn or damaged record cuts the
/// file there and is made again, never trusted; records of gone messages compacted away; sessions
/// adding at once lose nothing.
/// </summary>
[TestFixture]
public sealed class HeaderCacheTests
{
    private const uint Validity = 1_700_000_000;
    private string _root = "";

    private string CachePath => Path.Combine(_root, HeaderCache.FileName);

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "mailauth-headercache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private static MaildirMessage Message(uint uid, string? baseName = null, long size = 100) =>
        new(uid, baseName ?? $"17000000{uid:D2}.M{uid}P1.host", (baseName ?? $"17000000{uid:D2}.M{uid}P1.host") + ":2,S", MessageFlags.Seen, "", size, DateTimeOffset.UnixEpoch);

    private static byte[] Payload(uint uid, CachedPart part) => Encoding.ASCII.GetBytes($"{part} payload of message {uid} " + new string('x', 300 + ((int)uid % 50)));

    /// <summary>Which messages a fresh cache (as after a restart) finds whole, for both parts.</summary>
    private List<uint> FoundAfterRestart(IReadOnlyList<MaildirMessage> messages, uint validity = Validity)
    {
        var cache = new HeaderCache(_root);
        using var reader = cache.Open(validity, messages);
        var found = new List<uint>();
        foreach (var message in messages)
        {
            var header = reader.Find(message, CachedPart.Header);
            var structure = reader.Find(message, CachedPart.Structure);
            if (header is { } h && structure is { } s)
            {
                Assert.That(h.ToArray(), Is.EqualTo(Payload(message.Uid, CachedPart.Header)));
                Assert.That(s.ToArray(), Is.EqualTo(Payload(message.Uid, CachedPart.Structure)));
                found.Add(message.Uid);
            }
        }
        return found;
    }

    private void Fill(IReadOnlyList<MaildirMessage> messages)
    {
        var cache = new HeaderCache(_root);
        using var reader = cache.Open(Validity, messages);
        foreach (var message in messages)
        {
            reader.Add(message, CachedPart.Header, Payload(message.Uid, CachedPart.Header));
            reader.Add(message, CachedPart.Structure, Payload(message.Uid, CachedPart.Structure));
        }
    }

    [Test]
    public void RecordsAreReadBackOnlyForTheMessageTheyWereMadeOf()
    {
        var messages = Enumerable.Range(1, 40).Select(i => Message((uint)i)).ToList();
        Fill(messages);
        Assert.That(FoundAfterRestart(messages), Is.EqualTo(messages.Select(m => m.Uid)));

        // The same UIDs now name other files (an index rebuilt), or the size changed: not theirs.
        var changed = messages.Select(m => m.Uid % 3 == 0 ? Message(m.Uid, "other" + m.Uid) : m.Uid % 3 == 1 ? m with { Size = 101 } : m).ToList();
        Assert.That(FoundAfterRestart(changed), Is.EqualTo(messages.Where(m => m.Uid % 3 == 2).Select(m => m.Uid)));
        Assert.That(FoundAfterRestart(messages, Validity + 1), Is.Empty, "another UIDVALIDITY starts anew");
        Assert.That(File.ReadAllText(CachePath), Does.StartWith($"mailauth-headercache 1 {Validity + 1}\n").Or.Empty);
    }

    [Test]
    public void ATornOrDamagedRecordCutsTheFileThereAndIsMadeAgain()
    {
        var messages = Enumerable.Range(1, 30).Select(i => Message((uint)i)).ToList();
        Fill(messages);
        var whole = File.ReadAllBytes(CachePath);

        // A crash while appending: the last record is torn.
        File.WriteAllBytes(CachePath, whole[..^7]);
        Assert.That(FoundAfterRestart(messages), Is.EqualTo(messages.Select(m => m.Uid).SkipLast(1)));
        Assert.That(new FileInfo(CachePath).Length, Is.LessThan(whole.Length - 7), "the torn record was cut off");

        // A byte overwritten in the middle: everything from that record on is dropped, nothing wrong is read.
        var damaged = whole.ToArray();
        damaged[whole.Length / 2] ^= 0x20;
        File.WriteAllBytes(CachePath, damaged);
        var found = FoundAfterRestart(messages);
        Assert.That(found, Is.Not.Empty.And.Count.LessThan(messages.Count));
        Assert.That(found, Is.EqualTo(messages.Select(m => m.Uid).Take(found.Count)), "only the records before the damage");

        // Filled again: the dropped records are made anew after the good ones.
        var cache = new HeaderCache(_root);
        using (var reader = cache.Open(Validity, messages))
        {
            foreach (var message in messages.Where(m => !found.Contains(m.Uid)))
            {
                Assert.That(reader.Find(message, CachedPart.Header), Is.Null);
                reader.Add(message, CachedPart.Header, Payload(message.Uid, CachedPart.Header));
                reader.Add(message, CachedPart.Structure, Payload(message.Uid, CachedPart.Structure));
            }
        }
        Assert.That(FoundAfterRestart(messages), Is.EqualTo(messages.Select(m => m.Uid)));

        // Garbage instead of a cache: no entry, and the file is started anew.
        File.WriteAllBytes(CachePath, Encoding.ASCII.GetBytes("not a cache\n" + new string('z', 500)));
        Assert.That(FoundAfterRestart(messages), Is.Empty);
    }

    [Test]
    public void ARecordDamagedWhileTheServerRunsIsNotUsed()
    {
        var messages = Enumerable.Range(1, 10).Select(i => Message((uint)i)).ToList();
        Fill(messages);
        var cache = new HeaderCache(_root);
        using (cache.Open(Validity, messages))
        {
        }
        var bytes = File.ReadAllBytes(CachePath);
        bytes[^3] ^= 0x01; // inside the last record (message 10's Structure)
        File.WriteAllBytes(CachePath, bytes);
        using var reader = cache.Open(Validity, messages);
        Assert.That(reader.Find(messages[^1], CachedPart.Structure), Is.Null);
        Assert.That(reader.Find(messages[^1], CachedPart.Header)?.ToArray(), Is.EqualTo(Payload(10, CachedPart.Header)));
    }

    [Test]
    public void RecordsOfGoneMessagesAreCompactedAwayAtLoad()
    {
        var messages = Enumerable.Range(1, 3000).Select(i => Message((uint)i)).ToList();
        Fill(messages);
        var before = new FileInfo(CachePath).Length;
        var kept = messages.Where(m => m.Uid % 10 == 0).ToList();
        Assert.That(FoundAfterRestart(kept), Is.EqualTo(kept.Select(m => m.Uid)));
        Assert.That(new FileInfo(CachePath).Length, Is.LessThan(before / 5), "the file holds the live records only");
        Assert.That(FoundAfterRestart(kept), Is.EqualTo(kept.Select(m => m.Uid)), "and they read back after the rewrite");
    }

    [Test]
    public void SessionsAddingAtOnceLoseNothing()
    {
        var messages = Enumerable.Range(1, 2000).Select(i => Message((uint)i)).ToList();
        var cache = new HeaderCache(_root);
        Parallel.For(0, 4, worker =>
        {
            using var reader = cache.Open(Validity, messages);
            foreach (var message in messages.Where(m => m.Uid % 4 == worker || m.Uid % 7 == 0))
            {
                if (reader.Find(message, CachedPart.Header) is null)
                {
                    reader.Add(message, CachedPart.Header, Payload(message.Uid, CachedPart.Header));
                    reader.Add(message, CachedPart.Structure, Payload(message.Uid, CachedPart.Structure));
                }
            }
        });
        Assert.That(cache.Count, Is.EqualTo(messages.Count));
        Assert.That(FoundAfterRestart(messages), Is.EqualTo(messages.Select(m => m.Uid)));
    }
}
