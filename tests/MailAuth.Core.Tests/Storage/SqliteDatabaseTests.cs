using System.Runtime.InteropServices;
using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests.Storage;

/// <summary>The database, its WAL and SHM files and a new data directory are private by their own modes, not by the umask alone.</summary>
[TestFixture]
public sealed class SqliteDatabaseTests
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private string _root = null!;

    [SetUp]
    public void CreateRoot() => _root = TestDirectories.Create();

    [TearDown]
    public void RemoveRoot() => TestDirectories.Remove(_root);

    [Test]
    public void ANewDatabaseAndItsWalAndShmFilesAreTheOwnersOnlyEvenUnderUmaskZero()
    {
        var data = Path.Combine(_root, "data");
        var previous = Umask(0);
        try
        {
            var database = SqliteDatabase.OpenInDirectory(data);
            using var connection = database.Open();
            using var write = connection.CreateCommand();
            write.CommandText = "CREATE TABLE probe (x); INSERT INTO probe VALUES (1);";
            write.ExecuteNonQuery();

            Assert.That(File.GetUnixFileMode(data), Is.EqualTo(PrivateFile | UnixFileMode.UserExecute));
            foreach (var file in new[] { SqliteDatabase.FileName, SqliteDatabase.FileName + "-wal", SqliteDatabase.FileName + "-shm" })
            {
                Assert.That(File.GetUnixFileMode(Path.Combine(data, file)), Is.EqualTo(PrivateFile), file);
            }
        }
        finally
        {
            _ = Umask(previous);
        }
    }

    [Test]
    public void AnExistingDatabaseKeepsItsMode()
    {
        var data = Path.Combine(_root, "data");
        SqliteDatabase.OpenInDirectory(data);
        SqliteDatabase.ClearPools();
        var readOnlyForOthers = PrivateFile | UnixFileMode.GroupRead;
        File.SetUnixFileMode(Path.Combine(data, SqliteDatabase.FileName), readOnlyForOthers);

        SqliteDatabase.OpenInDirectory(data);

        Assert.That(File.GetUnixFileMode(Path.Combine(data, SqliteDatabase.FileName)), Is.EqualTo(readOnlyForOthers),
            "the CLI opens an install as it is; serve is what tightens it");
    }

    // DllImport: LibraryImport would need unsafe code allowed in this project for one call.
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
}
