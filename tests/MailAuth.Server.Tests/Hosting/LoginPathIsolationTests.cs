using System.Reflection;
using MailAuth.Core.Accounts;
using MailAuth.Core.Authentication;
using MailAuth.Core.Storage;
using MailAuth.Server.Hosting;
using MailAuth.Server.Imap;
using MailAuth.Server.Protocol;
using MailAuth.Server.Smtp;
using MailAuth.Server.Tls;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// docs/ARCHITECTURE.md, "Layers": the IMAP/SMTP login path depends on the mailbox credential store and the
/// authenticator only; it cannot reach the manager-account store.
/// </summary>
[TestFixture]
public sealed class LoginPathIsolationTests
{
    private static readonly Type[] ManagerAccountTypes =
    [
        typeof(ManagerAccountService), typeof(ManagerAccountStore), typeof(MailboxStore),
    ];

    [Test]
    public void NothingTheListenersHoldReachesTheManagerAccountStore()
    {
        using var data = new MailAuthProcess();
        var options = new MailAuthOptions { DataDirectory = data.DataDirectory };
        options.Hashing.MemoryKiB = 1024;
        options.Hashing.Iterations = 1;
        var services = new ServiceCollection()
            .AddLogging()
            .AddMailAuth(options)
            .AddSingleton<CertificateProvider>()
            .AddSingleton<TlsContext>()
            .AddImap(options)
            .AddSmtp(options);
        using var provider = services.BuildServiceProvider();

        // Everything the server would build, so that the walk below has real instances to inspect.
        _ = provider.GetRequiredService<ManagerAccountService>();
        var roots = new List<object> { provider.GetRequiredService<MailAuthenticator>() };
        roots.AddRange(provider.GetServices<ListenerDefinition>());
        roots.AddRange(provider.GetServices<IProtocolHandler>());

        var reached = Reachable(roots);
        Assert.That(reached.Select(o => o.GetType()), Has.None.AssignableTo(typeof(IServiceProvider)),
            "a service locator on the login path could reach anything");
        foreach (var type in ManagerAccountTypes)
        {
            Assert.That(reached.Select(o => o.GetType()), Has.None.EqualTo(type), $"{type.Name} is reachable from the login path");
        }
        Assert.That(reached.Select(o => o.GetType()), Has.Some.EqualTo(typeof(MailboxCredentialStore)), "the walk does see the credential store");
    }

    [Test]
    public async Task MailLoginsWorkWithTheManagerAccountTablesGone()
    {
        using var cli = new MailAuthProcess();
        await cli.RunAsync("domain", "add", "family.example");
        await cli.RunWithInputAsync("123-Abc\n", "mailbox", "add", "julie@family.example");
        await cli.RunWithInputAsync("Account-1\n", "account", "add", "julie@family.example", "--name", "Julie Martin",
            "--phone", "+41791234567", "--secondary-email", "julie@yahoo.example");

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, SqliteDatabase.FileName)}"))
        {
            await connection.OpenAsync();
            await using var rename = connection.CreateCommand();
            rename.CommandText = """
                PRAGMA foreign_keys = OFF;
                ALTER TABLE accounts RENAME TO gone_accounts;
                ALTER TABLE account_grants RENAME TO gone_grants;
                ALTER TABLE unifications RENAME TO gone_unifications;
                """;
            await rename.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        var ok = await cli.RunWithInputAsync("123-Abc\n", "auth", "test", "julie@family.example");
        Assert.That(ok.ExitCode, Is.Zero, ok.ToString());
        var failed = await cli.RunWithInputAsync("Account-1\n", "auth", "test", "julie@family.example");
        Assert.That(failed.ExitCode, Is.EqualTo(1), failed.ToString());
    }

    /// <summary>Every object reachable through instance fields (closures and collections included).</summary>
    private static List<object> Reachable(IEnumerable<object> roots)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>(roots);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            var type = current.GetType();
            if (type.IsPrimitive || current is string or Type or MemberInfo or Assembly || !seen.Add(current))
            {
                continue;
            }
            if (current is System.Collections.IEnumerable items and not ILogger)
            {
                foreach (var item in items)
                {
                    if (item is not null && !item.GetType().IsPrimitive)
                    {
                        pending.Push(item);
                    }
                }
            }
            for (var t = type; t is not null; t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (!field.FieldType.IsPrimitive && !field.FieldType.IsPointer && field.GetValue(current) is { } value)
                    {
                        pending.Push(value);
                    }
                }
            }
        }
        return [.. seen];
    }
}
