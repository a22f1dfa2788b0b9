using System.Diagnostics;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MailAuth.Core.Tests.Storage;

/// <summary>
/// The PostgreSQL change listener on a real server: a committed change-log write wakes it at once,
/// a rolled-back one never does, and a killed listening connection asks for a read and listens again.
/// </summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class PostgresMailboxChangeListenerTests
{
    private static readonly EmailAddress Julie = EmailAddress.Parse("julie@family.example");

    private string _directory = "";
    private PostgresDatabase _database = null!;
    private PostgresMailboxChangeListener _listener = null!;

    [SetUp]
    public async Task Listen()
    {
        _directory = TestDirectories.Create();
        _database = (PostgresDatabase)TestStores.Open(StoreProvider.PostgreSql, _directory);
        _listener = new PostgresMailboxChangeListener(_database, TimeProvider.System, NullLogger<PostgresMailboxChangeListener>.Instance);
        Assert.That(await _listener.WaitAsync(TimeSpan.FromSeconds(5), default), Is.True, "listening at first asks for a read");
        Assert.That(_listener.IsLive, Is.True);
    }

    [TearDown]
    public async Task StopListening()
    {
        await _listener.DisposeAsync();
        TestDirectories.Remove(_directory);
    }

    private async Task RecordChangeAsync(bool commit)
    {
        await using var connection = _database.Open();
        await using var transaction = await _database.BeginWriteAsync(connection, default);
        await MailboxChangeLog.RecordAsync(connection, transaction, Julie, MailboxChangeKind.Disabled, endsSessions: true, DateTimeOffset.UtcNow, default);
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }
    }

    [Test]
    public async Task ACommittedChangeWakesTheListenerAndARolledBackOneDoesNot()
    {
        await RecordChangeAsync(commit: false);
        Assert.That(await _listener.WaitAsync(TimeSpan.FromMilliseconds(300), default), Is.False, "no notification for a change that did not happen");

        var waiting = Stopwatch.StartNew();
        var woken = _listener.WaitAsync(TimeSpan.FromSeconds(10), default);
        await RecordChangeAsync(commit: true);
        Assert.That(await woken, Is.True);
        Assert.That(waiting.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "woken by the notification, not the timeout");
    }

    [Test]
    public async Task AKilledConnectionAsksForAReadAndListensAgain()
    {
        var woken = _listener.WaitAsync(TimeSpan.FromSeconds(10), default);
        await using (var admin = new NpgsqlConnection(PostgresTestServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                $"""
                WITH listeners AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = '{PostgresMailboxChangeListener.ApplicationName}')
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM listeners
                """, admin);
            Assert.That(await terminate.ExecuteScalarAsync(), Is.EqualTo(1L));
        }
        Assert.That(await woken.WaitAsync(TimeSpan.FromSeconds(5)), Is.True, "a lost connection: changes may have been missed");
        Assert.That(_listener.IsLive, Is.False);

        Assert.That(await _listener.WaitAsync(TimeSpan.FromSeconds(5), default), Is.True, "listening again: read what was missed");
        Assert.That(_listener.IsLive, Is.True);
        var again = _listener.WaitAsync(TimeSpan.FromSeconds(10), default);
        await RecordChangeAsync(commit: true);
        Assert.That(await again.WaitAsync(TimeSpan.FromSeconds(2)), Is.True);
    }
}
