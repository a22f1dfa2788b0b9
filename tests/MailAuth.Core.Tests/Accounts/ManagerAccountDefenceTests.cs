using System.Net;
using System.Text.RegularExpressions;
using MailAuth.Core.Accounts;
using MailAuth.Core.Authentication;
using MailAuth.Core.Notifications;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailAuth.Core.Tests.Accounts;

/// <summary>
/// The audit's findings on the manager-account realm: logins throttled like mail logins (the
/// counters in the store, since every CLI run is a process of its own), 2FA not guessable, one
/// answer whatever factor was wrong, reset tokens that are never usable at rest, do not outlive a
/// newer request or a password change, are rate-limited, and need the 2FA code; secrets sealed.
/// </summary>
[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed partial class ManagerAccountDefenceTests(StoreProvider provider)
{
    private const string Julie = "julie@entreprise-familiale.xyz";
    private const string Password = "Account-Secret-9";
    private static readonly IPAddress Attacker = IPAddress.Parse("198.51.100.66");

    private AccountWorld _world = null!;

    [SetUp]
    public async Task Create()
    {
        _world = new AccountWorld(provider);
        await _world.Admin.AddDomainAsync("entreprise-familiale.xyz", default);
        await _world.Admin.AddMailboxAsync(Julie, "123-Abc", default);
        await _world.Accounts.AddAsync(Julie, Password, "Julie Martin", "+41 79 123 45 67", "julie.martin@yahoo.example", default);
    }

    [TearDown]
    public void Dispose() => _world.Dispose();

    [Test]
    public async Task TwentyFiveWrongPasswordsThenTheRightOneIsRefused()
    {
        for (var i = 0; i < 25; i++)
        {
            Assert.That(await _world.AccountLoginAsync(Julie, $"guess-{i}", from: Attacker), Is.EqualTo(AccountLoginStatus.Failed).Or.EqualTo(AccountLoginStatus.Throttled));
        }
        Assert.That(await _world.AccountLoginAsync(Julie, Password, from: Attacker), Is.EqualTo(AccountLoginStatus.Throttled), "throttled, not verified");
        Assert.That(await _world.AccountLoginAsync(Julie, Password), Is.EqualTo(AccountLoginStatus.Succeeded), "the holder's own network is not the attacker's");

        _world.Clock.Now += TimeSpan.FromHours(2);
        Assert.That(await _world.AccountLoginAsync(Julie, Password, from: Attacker), Is.EqualTo(AccountLoginStatus.Succeeded), "failures fade");
    }

    [Test]
    public async Task TheCountersHoldAcrossProcesses()
    {
        // Each CLI run builds its own service over the same database.
        for (var i = 0; i < 5; i++)
        {
            var run = NewProcess();
            Assert.That((await run.LoginAsync(Julie, $"guess-{i}", null, Attacker, default)).Status, Is.EqualTo(AccountLoginStatus.Failed));
        }
        var verified = new CountingHasher(_world.Hasher);
        var last = NewProcess(verified);
        Assert.That((await last.LoginAsync(Julie, Password, null, Attacker, default)).Status, Is.EqualTo(AccountLoginStatus.Throttled));
        Assert.That(verified.Verifications, Is.Zero, "refused before any Argon2 work");
    }

    [Test]
    public async Task TwentyFiveWrongCodesLockTwoFactorAndTellTheHolder()
    {
        var secret = AccountWorld.TotpSecretOf(await _world.Accounts.EnableTwoFactorAsync(Julie, default));
        // From many networks, so that the per-network limits do not stop the guesser before 2FA locks.
        for (var i = 0; i < 25; i++)
        {
            var from = IPAddress.Parse($"203.0.113.{i + 1}");
            // Past the address's failure limit the throttle answers first (Throttled): the guesser learns nothing either way.
            Assert.That(await _world.AccountLoginAsync(Julie, Password, WrongCode(secret), from), Is.EqualTo(AccountLoginStatus.Failed).Or.EqualTo(AccountLoginStatus.Throttled));
        }
        var right = Totp.Code(secret, Totp.StepAt(_world.Clock.Now));
        Assert.That(await _world.AccountLoginAsync(Julie, Password, right, IPAddress.Parse("203.0.113.200")), Is.Not.EqualTo(AccountLoginStatus.Succeeded),
            "2FA is locked: the right code does not open it now");
        var sent = (await _world.OutboxAsync()).Where(m => m.Notification.Subject == "2FA locked").Select(m => m.Notification.Channel);
        Assert.That(sent, Is.EquivalentTo(new[] { NotificationChannel.Email, NotificationChannel.Sms }), "told once, when it locked");
        Assert.That(await _world.AuditEventsAsync(), Has.One.StartsWith("account.2fa-locked"));

        _world.Clock.Now += ManagerAccountStore.TotpLockTime + TimeSpan.FromMinutes(1);
        var later = Totp.Code(secret, Totp.StepAt(_world.Clock.Now));
        Assert.That(await _world.AccountLoginAsync(Julie, Password, later, IPAddress.Parse("203.0.113.201")), Is.EqualTo(AccountLoginStatus.Succeeded));
    }

    [Test]
    public async Task NoFactorIsToldApartBeforeBothAreRight()
    {
        var secret = AccountWorld.TotpSecretOf(await _world.Accounts.EnableTwoFactorAsync(Julie, default));
        var answers = new[]
        {
            await _world.Accounts.LoginAsync(Julie, "wrong", null, Attacker, default),
            await _world.Accounts.LoginAsync(Julie, Password, null, Attacker, default),
            await _world.Accounts.LoginAsync(Julie, Password, WrongCode(secret), Attacker, default),
            await _world.Accounts.LoginAsync("nobody@else.example", Password, "123456", Attacker, default),
        };
        Assert.That(answers, Has.All.EqualTo(new AccountLoginResult(AccountLoginStatus.Failed, null)));
    }

    [Test]
    public async Task SecretsAreSealedAtRestAndLegacyOnesGetSealed()
    {
        var secret = AccountWorld.TotpSecretOf(await _world.Accounts.EnableTwoFactorAsync(Julie, default));
        Assert.That(DatabaseBytes(), Does.Not.Contain(Convert.ToHexString(secret)), "the 2FA secret is not readable in the database");
        var keyFile = Path.Combine(_world.Directory, SecretBox.FileName);
        Assert.That(File.GetUnixFileMode(keyFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        // A secret stored raw by an earlier version is sealed when the store starts, and still works.
        using (var connection = _world.Database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE accounts SET totp_secret = @raw";
            command.AddParameter("@raw", secret);
            command.ExecuteNonQuery();
        }
        Assert.That(DatabaseBytes(), Does.Contain(Convert.ToHexString(secret)));
        Assert.That(_world.AccountStore.SealLegacySecrets(), Is.EqualTo(1));
        Assert.That(_world.AccountStore.SealLegacySecrets(), Is.Zero);
        if (_world.Database is SqliteDatabase)
        {
            using var connection = _world.Database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;";
            command.ExecuteNonQuery();
        }
        Assert.That(DatabaseBytes(), Does.Not.Contain(Convert.ToHexString(secret)));
        Assert.That(await _world.AccountLoginAsync(Julie, Password, Totp.Code(secret, Totp.StepAt(_world.Clock.Now))), Is.EqualTo(AccountLoginStatus.Succeeded));
    }

    [Test]
    public async Task ANewRequestAndAPasswordChangeEndOlderTokens()
    {
        var first = await RequestTokenAsync();
        var second = await RequestTokenAsync();
        Assert.That(Complete(first, "Reset-2")!.Message, Is.EqualTo("the reset token is invalid, used or expired"), "a newer request replaced it");

        await _world.Accounts.SetPasswordAsync(Julie, "Changed-3", default);
        Assert.That(Complete(second, "Reset-4")!.Message, Is.EqualTo("the reset token is invalid, used or expired"), "a password change ended it");

        var third = await RequestTokenAsync();
        Assert.That(Complete(third, "Reset-5"), Is.Null);
        Assert.That(await _world.AccountLoginAsync(Julie, "Reset-5"), Is.EqualTo(AccountLoginStatus.Succeeded));
    }

    [Test]
    public async Task ResetRequestsAreLimitedPerIdentifierAndPerRequesterWhetherOrNotTheAccountExists()
    {
        var requester = IPAddress.Parse("192.0.2.50");
        foreach (var identifier in new[] { Julie, "nobody@else.example" })
        {
            for (var i = 0; i < ManagerAccountStore.ResetRequestsPerIdentifier; i++)
            {
                await _world.Accounts.RequestPasswordResetAsync(identifier, requester, default);
            }
            var e = Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.RequestPasswordResetAsync(identifier, requester, default));
            Assert.That(e!.Message, Is.EqualTo("too many password reset requests for this identifier or from this address; try again later"));
        }
        Assert.That((await _world.OutboxAsync()).Count(m => m.Notification.Subject == "Password reset"), Is.EqualTo(2 * 3), "3 requests, email and SMS each");

        // One requester spraying identifiers.
        var sprayer = IPAddress.Parse("192.0.2.51");
        var accepted = 0;
        for (var i = 0; i < 20; i++)
        {
            try
            {
                await _world.Accounts.RequestPasswordResetAsync($"user{i}@else.example", sprayer, default);
                accepted++;
            }
            catch (CredentialOperationException)
            {
            }
        }
        Assert.That(accepted, Is.EqualTo(ManagerAccountStore.ResetRequestsPerRequester));

        _world.Clock.Now += TimeSpan.FromHours(3);
        await _world.Accounts.RequestPasswordResetAsync(Julie, requester, default);
    }

    [Test]
    public async Task WithTwoFactorOnAResetNeedsTheCodeToo()
    {
        await _world.Accounts.GrantAsync(Julie, Julie, canChangePassword: true, default);
        await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Unified-1", unify: true, default);
        var secret = AccountWorld.TotpSecretOf(await _world.Accounts.EnableTwoFactorAsync(Julie, default));
        var token = await RequestTokenAsync();

        Assert.That(Complete(token, "Taken-2")!.Message, Does.StartWith("this account has 2FA on: give the current code"));
        Assert.That(Complete(token, "Taken-2", WrongCode(secret))!.Message, Is.EqualTo("the 2FA code is wrong; the reset token stays valid until it expires"));
        Assert.That(await _world.MailLoginAsync(Julie, "Taken-2"), Is.False, "a token alone does not take over the unified mailbox");

        Assert.That(Complete(token, "Reset-3", Totp.Code(secret, Totp.StepAt(_world.Clock.Now))), Is.Null);
        Assert.That(await _world.MailLoginAsync(Julie, "Reset-3"), Is.True);
    }

    private async Task<string> RequestTokenAsync()
    {
        await _world.Accounts.RequestPasswordResetAsync(Julie, AccountWorld.Browser, default);
        var sent = await _world.DispatchAsync();
        return TokenRegex().Match(sent.Last().Notification.Text).Groups[1].Value;
    }

    /// <summary>Completes a reset; the refusal, or null when it worked.</summary>
    private CredentialOperationException? Complete(string token, string password, string? totp = null)
    {
        try
        {
            _world.Accounts.CompletePasswordResetAsync(token, password, totp, default).GetAwaiter().GetResult();
            return null;
        }
        catch (CredentialOperationException e)
        {
            return e;
        }
    }

    private string WrongCode(byte[] secret)
    {
        var step = Totp.StepAt(_world.Clock.Now);
        var near = Enumerable.Range(-2, 5).Select(d => Totp.Code(secret, step + d)).ToHashSet();
        return Enumerable.Range(0, 1000).Select(i => i.ToString("000000", System.Globalization.CultureInfo.InvariantCulture)).First(c => !near.Contains(c));
    }

    private ManagerAccountService NewProcess(CountingHasher? hasher = null) => new(
        _world.AccountStore,
        new CredentialVerifier(hasher ?? (MailAuth.Core.Passwords.IPasswordHasher)_world.Hasher, _world.Pool),
        new StoredFailureThrottle(_world.Database, new ThrottleOptions { MaxDelaySeconds = 0 }, _world.Clock, ManagerAccountService.LoginRealm),
        _world.Clock,
        NullLogger<ManagerAccountService>.Instance);

    private string DatabaseBytes() => _world.StoredHex();

    private sealed class CountingHasher(MailAuth.Core.Passwords.IPasswordHasher inner) : MailAuth.Core.Passwords.IPasswordHasher
    {
        private int _verifications;

        public int Verifications => Volatile.Read(ref _verifications);

        public string DummyHash => inner.DummyHash;

        public string Hash(string password) => inner.Hash(password);

        public MailAuth.Core.Passwords.PasswordCheck Verify(string storedHash, string password)
        {
            Interlocked.Increment(ref _verifications);
            return inner.Verify(storedHash, password);
        }
    }

    [GeneratedRegex(@"Reset token \(single use, valid until [^)]*\): ([A-Za-z0-9_-]+)\.")]
    private static partial Regex TokenRegex();
}
