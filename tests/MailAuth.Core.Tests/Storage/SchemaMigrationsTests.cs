using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests.Storage;

[TestFixture]
public sealed class SchemaMigrationsTests
{
    private string _directory = "";

    [SetUp]
    public void CreateDirectory() => _directory = TestDirectories.Create();

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [Test]
    public void NewDatabaseIsAtLatestVersionInWalModeWithForeignKeys()
    {
        var database = SqliteDatabase.OpenInDirectory(_directory);
        using var connection = database.Open();
        Assert.Multiple(() =>
        {
            Assert.That(Scalar(connection, "PRAGMA user_version"), Is.EqualTo(SchemaMigrations.LatestVersion));
            Assert.That(Scalar(connection, "PRAGMA journal_mode"), Is.EqualTo("wal"));
            Assert.That(Scalar(connection, "PRAGMA foreign_keys"), Is.EqualTo(1L));
        });
    }

    [Test]
    public void ReopeningAppliesNothingTwice()
    {
        SqliteDatabase.OpenInDirectory(_directory);
        SqliteDatabase.OpenInDirectory(_directory);
        using var connection = SqliteDatabase.OpenInDirectory(_directory).Open();
        Assert.That(Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'mailboxes'"), Is.EqualTo(1L));
    }

    [Test]
    public void ConcurrentOpenersMigrateOnce()
    {
        var openers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => SqliteDatabase.OpenInDirectory(_directory))).ToArray();
        Assert.DoesNotThrowAsync(() => Task.WhenAll(openers));
        using var connection = openers[0].Result.Open();
        Assert.That(Scalar(connection, "PRAGMA user_version"), Is.EqualTo(SchemaMigrations.LatestVersion));
    }

    [Test]
    public void RefusesADatabaseFromANewerVersion()
    {
        using (var connection = SqliteDatabase.OpenInDirectory(_directory).Open())
        {
            Execute(connection, $"PRAGMA user_version = {SchemaMigrations.LatestVersion + 1}");
        }
        SqliteDatabase.ClearPools();
        var e = Assert.Throws<InvalidOperationException>(() => SqliteDatabase.OpenInDirectory(_directory));
        Assert.That(e!.Message, Does.Contain("newer than this program knows"));
    }

    private static object? Scalar(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
