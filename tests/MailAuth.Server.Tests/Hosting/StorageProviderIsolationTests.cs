using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// docs/ARCHITECTURE.md, "Layers": the storage provider is Core's business. The server handles a storage
/// failure as ADO.NET's provider-neutral <see cref="System.Data.Common.DbException"/>, so that a second
/// provider (PostgreSQL) changes Core only.
/// </summary>
[TestFixture]
public sealed class StorageProviderIsolationTests
{
    [Test]
    public void TheServerAssemblyReferencesNoDatabaseProvider()
    {
        var referenced = typeof(MailAuthOptions).Assembly.GetReferencedAssemblies().Select(a => a.Name);
        Assert.That(referenced, Has.None.StartsWith("Microsoft.Data.Sqlite").And.None.StartsWith("Npgsql"));
        Assert.That(referenced, Has.Some.EqualTo("MailAuth.Core"), "the check sees the server's real references");
    }
}
