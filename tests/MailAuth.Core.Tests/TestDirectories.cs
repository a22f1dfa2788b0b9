using MailAuth.Core.Storage;

namespace MailAuth.Core.Tests;

internal static class TestDirectories
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "mailauth-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Remove(string path)
    {
        SqliteDatabase.ClearPools();
        Storage.TestStores.Release(path);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
