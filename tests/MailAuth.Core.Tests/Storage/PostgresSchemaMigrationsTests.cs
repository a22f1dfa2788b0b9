using MailAuth.Core.Storage;
using Npgsql;

namespace MailAuth.Core.Tests.Storage;

/// <summary>The PostgreSQL schema on a real server: the same steps as SQLite's, applied once when nodes start together.</summary>
[TestFixture]
[Category("External")]
[Category("PostgreSQL")]
public sealed class PostgresSchemaMigrationsTests
{
    private string _directory = "";

    [SetUp]
    public void CreateDirectory() => _directory = TestDirectories.Create();

    [TearDown]
    public void RemoveDirectory() => TestDirectories.Remove(_directory);

    [Test]
    public void HasAStepForEverySqliteStep() =>
        Assert.That(PostgresSchemaMigrations.LatestVersion, Is.EqualTo(SchemaMigrations.LatestVersion));

    [Test]
    public async Task NodesStartingTogetherApplyEachStepOnce()
    {
        var connectionString = TestStores.ConnectionString(_directory);
        var openers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => PostgresDatabase.Open(connectionString, _directory))).ToArray();
        var databases = await Task.WhenAll(openers);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT string_agg(version::text, ',' ORDER BY version) FROM mailauth_schema", connection);
            Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(string.Join(',', Enumerable.Range(1, PostgresSchemaMigrations.LatestVersion))));
        }
        foreach (var database in databases)
        {
            database.Dispose();
        }
    }

    [Test]
    public void ANewerSchemaIsRefused()
    {
        var connectionString = TestStores.ConnectionString(_directory);
        PostgresDatabase.Open(connectionString, _directory).Dispose();
        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand("INSERT INTO mailauth_schema (version) VALUES (99)", connection);
            command.ExecuteNonQuery();
        }
        var e = Assert.Throws<InvalidOperationException>(() => PostgresDatabase.Open(connectionString, _directory));
        Assert.That(e!.Message, Is.EqualTo($"the database schema is version 99, newer than this program knows ({SchemaMigrations.LatestVersion}); upgrade MailAuth"));
        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand("DELETE FROM mailauth_schema WHERE version = 99", connection);
            command.ExecuteNonQuery();
        }
    }
}
