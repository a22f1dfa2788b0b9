using MailAuth.Core.Tests.Storage;

// No namespace: NUnit runs this once around every test of the assembly.
[SetUpFixture]
#pragma warning disable CA1050 // NUnit's assembly-wide set-up fixture lives outside any namespace
public sealed class PostgresTestServerTeardown
#pragma warning restore CA1050
{
    [OneTimeTearDown]
    public void StopPostgres() => PostgresTestServer.Stop();
}
