using System.Text;
using System.Text.RegularExpressions;
using MailAuth.Core.Accounts;
using MailAuth.Core.Notifications;
using MailAuth.Core.Storage;
using MailAuth.Core.Tests.Storage;

namespace MailAuth.Core.Tests.Accounts;

[TestFixture(StoreProvider.Sqlite)]
[TestFixture(StoreProvider.PostgreSql, Category = TestStores.PostgresCategories)]
public sealed partial class ManagerAccountServiceTests(StoreProvider provider)
{
    private const string Domain = "entreprise-familiale.xyz";
    private const string Julie = "julie@entreprise-familiale.xyz";
    private const string MailboxPassword = "123-Abc";
    private const string AccountPassword = "Account-Secret-9";

    private AccountWorld _world = null!;

    [SetUp]
    public async Task CreateTheProvidersExample()
    {
        _world = new AccountWorld(provider);
        await _world.Admin.AddDomainAsync(Domain, default);
        await _world.Admin.AddMailboxAsync(Julie, MailboxPassword, default);
        await _world.Accounts.AddAsync(Julie, AccountPassword, "Julie Martin", "+41 79 123 45 67", "julie.martin@yahoo.example", default);
        await _world.Accounts.GrantAsync(Julie, Julie, canChangePassword: true, default);
    }

    [TearDown]
    public void Dispose() => _world.Dispose();

    [Test]
    public async Task ProvidersExampleFromSeparatePasswordsThroughUnificationToRecovery()
    {
        // Before unification: two realms, two passwords.
        Assert.Multiple(async () =>
        {
            Assert.That(await _world.MailLoginAsync(Julie, AccountPassword), Is.False, "the account password never opens the mailbox");
            Assert.That(await _world.MailLoginAsync(Julie, MailboxPassword), Is.True);
            Assert.That(await _world.AccountLoginAsync(Julie, MailboxPassword), Is.EqualTo(AccountLoginStatus.Failed));
            Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword), Is.EqualTo(AccountLoginStatus.Succeeded));
        });

        // A change of the mailbox password by the account offers unification.
        var offered = await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Mailbox-2", unify: false, default);
        Assert.That(offered.Result, Is.EqualTo(MailboxPasswordResult.ChangedUnificationOffered));
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword), Is.EqualTo(AccountLoginStatus.Succeeded), "only the mailbox changed");

        // Accepting sets both and records the pair.
        var unified = await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Unified-3", unify: true, default);
        Assert.That(unified.Result, Is.EqualTo(MailboxPasswordResult.Unified));
        Assert.Multiple(async () =>
        {
            Assert.That(await _world.MailLoginAsync(Julie, "Unified-3"), Is.True);
            Assert.That(await _world.AccountLoginAsync(Julie, "Unified-3"), Is.EqualTo(AccountLoginStatus.Succeeded));
            Assert.That((await _world.Accounts.ShowAsync(Julie, default)).UnifiedMailbox?.ToString(), Is.EqualTo(Julie));
        });
        Assert.That(await StoredHashesAsync(), Is.Unique, "each side keeps its own hash with its own salt");

        // While unified, a change through the account changes both.
        Assert.That((await _world.Accounts.SetPasswordAsync(Julie, "Both-4", default))?.ToString(), Is.EqualTo(Julie));
        Assert.Multiple(async () =>
        {
            Assert.That(await _world.MailLoginAsync(Julie, "Both-4"), Is.True);
            Assert.That(await _world.MailLoginAsync(Julie, "Unified-3"), Is.False);
        });

        // A second account granted access dissolves the unification.
        await _world.Accounts.AddAsync("toto@yahoo.example", "Toto-Pass-1", "Toto Muster", "+41 79 765 43 21", "toto2@gmail.example", default);
        await _world.Accounts.GrantAsync("toto@yahoo.example", Julie, canChangePassword: false, default);
        Assert.That((await _world.Accounts.ShowAsync(Julie, default)).UnifiedMailbox, Is.Null);
        Assert.That(await _world.AuditEventsAsync(), Has.Some.EqualTo(
            $"unification.dissolved {Julie} = {Julie}: a second manager account was granted access to the mailbox"));
        await _world.Accounts.SetPasswordAsync(Julie, "Account-Only-5", default);
        Assert.That(await _world.MailLoginAsync(Julie, "Both-4"), Is.True, "after dissolution only the account changes");

        // Removing the domain (mail service cancelled) puts the account into recovery.
        await _world.Admin.RemoveDomainAsync(Domain, includingMailboxes: true, default);
        Assert.That(await _world.AccountLoginAsync(Julie, "Account-Only-5"), Is.EqualTo(AccountLoginStatus.Failed), "the old identifier stops working");
        var account = (await _world.Accounts.ListAsync(default)).Single(a => a.Name == "Julie Martin");
        Assert.That(account.State, Is.EqualTo(AccountState.InRecovery));
        Assert.That(account.RecoveryUsername, Does.Match("^jm[0-9]{6}$"));
        Assert.That(account.FormerLogin?.ToString(), Is.EqualTo(Julie));

        var sent = (await _world.OutboxAsync()).Select(m => m.Notification).Where(n => n.Body.Contains(account.RecoveryUsername!, StringComparison.Ordinal)).ToList();
        Assert.That(sent.Select(n => (n.Channel, n.Recipient)), Is.EquivalentTo(new[]
        {
            (NotificationChannel.Email, "julie.martin@yahoo.example"),
            (NotificationChannel.Sms, "+41791234567"),
        }));
        Assert.That(sent.Select(n => n.Body), Has.None.Contains("Account-Only-5"), "the password is never sent");

        // The holder logs in with the recovery username and the unchanged password, then chooses a new identifier.
        Assert.That(await _world.AccountLoginAsync(account.RecoveryUsername!, "Account-Only-5"), Is.EqualTo(AccountLoginStatus.MustCompleteRecovery));
        Assert.That(await _world.AccountLoginAsync(account.RecoveryUsername!, "wrong"), Is.EqualTo(AccountLoginStatus.Failed));
        await _world.Accounts.CompleteRecoveryAsync(account.RecoveryUsername!.ToUpperInvariant(), "Account-Only-5", null, "Julie.Martin@Yahoo.example", AccountWorld.Browser, default);
        Assert.Multiple(async () =>
        {
            Assert.That(await _world.AccountLoginAsync("julie.martin@yahoo.example", "Account-Only-5"), Is.EqualTo(AccountLoginStatus.Succeeded));
            Assert.That(await _world.AccountLoginAsync(account.RecoveryUsername!, "Account-Only-5"), Is.EqualTo(AccountLoginStatus.Failed));
            Assert.That(await _world.AccountLoginAsync("toto@yahoo.example", "Toto-Pass-1"), Is.EqualTo(AccountLoginStatus.Succeeded),
                "an account whose identifier is hosted elsewhere is untouched");
        });
        Assert.That(await _world.AuditEventsAsync(), Has.Some.StartsWith($"account.recovery-started {Julie}: mail service of {Domain} cancelled"));
        Assert.That(await _world.AuditEventsAsync(), Has.Some.StartsWith("account.recovery-completed"));
    }

    [Test]
    public async Task UnifyingWhenConditionsFailIsRefusedWithEveryReasonAndChangesNothing()
    {
        await _world.Admin.AddMailboxAsync("info@entreprise-familiale.xyz", "Info-1", default);
        await _world.Accounts.AddAsync("boss@gmail.example", "Boss-1", "Big Boss", "+41 79 000 00 01", "boss@else.example", default);
        await _world.Accounts.GrantAsync("boss@gmail.example", "info@entreprise-familiale.xyz", canChangePassword: true, default);
        await _world.Accounts.GrantAsync(Julie, "info@entreprise-familiale.xyz", canChangePassword: true, default);

        var outcome = await _world.Accounts.SetMailboxPasswordAsync("boss@gmail.example", "info@entreprise-familiale.xyz", "New-1", unify: true, default);
        Assert.That(outcome.Result, Is.EqualTo(MailboxPasswordResult.UnificationRefused));
        Assert.That(outcome.Conditions.Failed, Is.EqualTo(new[]
        {
            "the account's login identifier is not the mailbox address",
            "the account is not the only manager account with access to the mailbox",
        }));
        Assert.That(await _world.MailLoginAsync("info@entreprise-familiale.xyz", "Info-1"), Is.True, "nothing changed");
        Assert.That(await _world.AuditEventsAsync(), Has.Some.StartsWith("unification.refused boss@gmail.example = info@entreprise-familiale.xyz"));

        // Without --unify the holder with the permission just changes the mailbox password; no offer.
        var changed = await _world.Accounts.SetMailboxPasswordAsync("boss@gmail.example", "info@entreprise-familiale.xyz", "New-1", unify: false, default);
        Assert.That(changed.Result, Is.EqualTo(MailboxPasswordResult.Changed));
    }

    [Test]
    public async Task NoPermissionMeansNoChangeAndAllThreeReasons()
    {
        await _world.Accounts.GrantAsync(Julie, Julie, canChangePassword: false, default);
        var e = Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "X-1", unify: false, default));
        Assert.That(e!.Message, Is.EqualTo($"account {Julie} has no permission to change the password of {Julie}"));
        var refused = await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "X-1", unify: true, default);
        Assert.That(refused.Conditions.Failed, Is.EqualTo(new[] { "the account has no permission to change the mailbox password" }));
        Assert.That(await _world.MailLoginAsync(Julie, MailboxPassword), Is.True);
    }

    [TestCase("admin reset")]
    [TestCase("permission revoked")]
    [TestCase("access revoked")]
    [TestCase("mailbox deleted")]
    public async Task EveryTriggerDissolvesTheUnification(string trigger)
    {
        await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Unified-1", unify: true, default);
        var expectedReason = trigger switch
        {
            "admin reset" => "mailbox password reset by the admin",
            "permission revoked" => "the permission to change the mailbox password was revoked",
            "access revoked" => "the account's access to the mailbox was revoked",
            _ => "mailbox deleted",
        };
        switch (trigger)
        {
            case "admin reset":
                await _world.Admin.SetPasswordAsync(Julie, "Admin-Reset-2", endSessions: true, default);
                Assert.That(await _world.AccountLoginAsync(Julie, "Unified-1"), Is.EqualTo(AccountLoginStatus.Succeeded), "only the mailbox changed");
                Assert.That(await _world.MailLoginAsync(Julie, "Admin-Reset-2"), Is.True);
                break;
            case "permission revoked":
                await _world.Accounts.GrantAsync(Julie, Julie, canChangePassword: false, default);
                break;
            case "access revoked":
                await _world.Accounts.RevokeAsync(Julie, Julie, default);
                break;
            default:
                await _world.Admin.RemoveMailboxAsync(Julie, default);
                break;
        }
        Assert.That(await _world.AuditEventsAsync(), Has.Some.EqualTo($"unification.dissolved {Julie} = {Julie}: {expectedReason}"));
        if (trigger != "mailbox deleted")
        {
            Assert.That((await _world.Accounts.ShowAsync(Julie, default)).UnifiedMailbox, Is.Null);
            await _world.Accounts.SetPasswordAsync(Julie, "Account-Only-3", default);
            Assert.That(await _world.MailLoginAsync(Julie, "Account-Only-3"), Is.False, "no longer propagated");
        }
    }

    [Test]
    public async Task RemovingOneMailboxPutsItsAccountIntoRecoveryButNotOthers()
    {
        await _world.Accounts.AddAsync("toto@yahoo.example", "Toto-1", "Toto", "+41 79 765 43 21", "toto@gmail.example", default);
        await _world.Accounts.GrantAsync("toto@yahoo.example", Julie, canChangePassword: true, default);
        await _world.Admin.RemoveMailboxAsync(Julie, default);
        var accounts = await _world.Accounts.ListAsync(default);
        Assert.That(accounts.Single(a => a.Name == "Julie Martin").State, Is.EqualTo(AccountState.InRecovery));
        var toto = accounts.Single(a => a.Name == "Toto");
        Assert.That(toto.State, Is.EqualTo(AccountState.Active));
        Assert.That(toto.Grants, Is.Empty, "the grant went with the mailbox");
    }

    [Test]
    public async Task DomainCancellationCatchesIdentifiersWithoutAMailboxToo()
    {
        await _world.Accounts.AddAsync("ghost@entreprise-familiale.xyz", "Ghost-1", "Gabriel Host", "+41 79 111 11 11", "gh@else.example", default);
        await _world.Admin.RemoveDomainAsync(Domain, includingMailboxes: true, default);
        Assert.That((await _world.Accounts.ListAsync(default)).Select(a => a.State), Is.All.EqualTo(AccountState.InRecovery));
    }

    [Test]
    public async Task UnknownIdentifierAndWrongPasswordLookAlike()
    {
        Assert.Multiple(async () =>
        {
            Assert.That((await _world.Accounts.LoginAsync("nobody@else.example", AccountPassword, null, AccountWorld.Browser, default)).Identifier, Is.Null);
            Assert.That((await _world.Accounts.LoginAsync(Julie, "wrong", null, AccountWorld.Browser, default)).Identifier, Is.Null);
            Assert.That(await _world.AccountLoginAsync("nobody@else.example", AccountPassword), Is.EqualTo(AccountLoginStatus.Failed));
            Assert.That(await _world.AccountLoginAsync("no-such-recovery1", AccountPassword), Is.EqualTo(AccountLoginStatus.Failed));
            Assert.That(await _world.AccountLoginAsync("not@an@address", AccountPassword), Is.EqualTo(AccountLoginStatus.Failed));
        });
    }

    [Test]
    public async Task TwoFactorCodesWorkOnceWithinTheDriftWindow()
    {
        var uri = await _world.Accounts.EnableTwoFactorAsync(Julie, default);
        var secret = AccountWorld.TotpSecretOf(uri);
        var step = Totp.StepAt(_world.Clock.Now);

        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword), Is.EqualTo(AccountLoginStatus.Failed), "no code: the same answer as a wrong password");
        Assert.That(await _world.AccountLoginAsync(Julie, "wrong", Totp.Code(secret, step)), Is.EqualTo(AccountLoginStatus.Failed));
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, "000000" == Totp.Code(secret, step) ? "111111" : "000000"),
            Is.EqualTo(AccountLoginStatus.Failed));
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step - 1)), Is.EqualTo(AccountLoginStatus.Succeeded));
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step)), Is.EqualTo(AccountLoginStatus.Succeeded));
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step)), Is.EqualTo(AccountLoginStatus.Failed), "never twice");
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step - 1)), Is.EqualTo(AccountLoginStatus.Failed), "nor an older one");

        _world.Clock.Now += TimeSpan.FromSeconds(Totp.StepSeconds * 3);
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step + 1)), Is.EqualTo(AccountLoginStatus.Failed), "too old now");
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword, Totp.Code(secret, step + 3)), Is.EqualTo(AccountLoginStatus.Succeeded));

        await _world.Accounts.DisableTwoFactorAsync(Julie, default);
        Assert.That(await _world.AccountLoginAsync(Julie, AccountPassword), Is.EqualTo(AccountLoginStatus.Succeeded));
    }

    [Test]
    public async Task ResetTokenIsSentStoredHashedUsedOnceAndExpires()
    {
        await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Unified-1", unify: true, default);
        await _world.Accounts.RequestPasswordResetAsync(Julie, AccountWorld.Browser, default);
        var listed = (await _world.OutboxAsync()).Where(m => m.Notification.Subject == "Password reset").ToList();
        Assert.That(listed.Select(m => m.Notification.Channel), Is.EquivalentTo(new[] { NotificationChannel.Email, NotificationChannel.Sms }));
        Assert.That(listed, Has.All.Property(nameof(OutboxMessage.SecretHeld)).True);
        Assert.That(listed.Select(m => m.Notification.Text), Has.All.Contains("Reset token (single use, valid until").And.All.Contains("): [secret]."),
            "a listing never shows the token");
        var messages = (await _world.DispatchAsync()).Where(m => m.Notification.Subject == "Password reset").ToList();
        var token = TokenRegex().Match(messages[0].Notification.Text).Groups[1].Value;
        Assert.That(token, Has.Length.GreaterThan(30));
        Assert.That(TokenRegex().Match(messages[1].Notification.Text).Groups[1].Value, Is.EqualTo(token));

        var databaseBytes = _world.StoredText();
        Assert.That(databaseBytes, Does.Not.Contain(token), "never at rest: sealed in the outbox, erased once dispatched, only its hash kept");
        Assert.That(await _world.DispatchAsync(), Is.Empty, "dispatched once");

        var (identifier, unified) = await _world.Accounts.CompletePasswordResetAsync(token, "Reset-2", null, default);
        Assert.That(identifier, Is.EqualTo(Julie));
        Assert.That(unified?.ToString(), Is.EqualTo(Julie));
        Assert.That(await _world.AccountLoginAsync(Julie, "Reset-2"), Is.EqualTo(AccountLoginStatus.Succeeded));
        Assert.That(await _world.MailLoginAsync(Julie, "Reset-2"), Is.True, "a unified mailbox follows a reset by its holder");
        Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.CompletePasswordResetAsync(token, "Again-3", null, default));

        await _world.Accounts.RequestPasswordResetAsync(Julie, AccountWorld.Browser, default);
        var second = TokenRegex().Match((await _world.DispatchAsync()).Last().Notification.Text).Groups[1].Value;
        _world.Clock.Now += TimeSpan.FromMinutes(31);
        var e = Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.CompletePasswordResetAsync(second, "Late-4", null, default));
        Assert.That(e!.Message, Is.EqualTo("the reset token is invalid, used or expired"));
        Assert.That(await _world.AccountLoginAsync(Julie, "Reset-2"), Is.EqualTo(AccountLoginStatus.Succeeded));
    }

    [Test]
    public async Task ResetForAnUnknownAccountQueuesNothing()
    {
        await _world.Accounts.RequestPasswordResetAsync("nobody@else.example", AccountWorld.Browser, default);
        Assert.That(await _world.OutboxAsync(), Is.Empty);
    }

    [Test]
    public async Task LoginIdentifierIsSentToThePhoneNeverShown()
    {
        await _world.Accounts.SendLoginIdentifierAsync("+41 (79) 123-45-67", null, default);
        var sent = (await _world.OutboxAsync()).Select(m => m.Notification).ToList();
        Assert.That(sent.Select(n => (n.Channel, n.Recipient)), Is.EquivalentTo(new[]
        {
            (NotificationChannel.Sms, "+41791234567"),
            (NotificationChannel.Email, "julie.martin@yahoo.example"),
        }));
        Assert.That(sent, Has.All.Property(nameof(Notification.Body)).Contains(Julie));
        await _world.Accounts.SendLoginIdentifierAsync("+41 79 000 00 00", null, default);
        Assert.That(await _world.OutboxAsync(), Has.Count.EqualTo(2), "an unknown number queues nothing");
        Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.SendLoginIdentifierAsync("0791234567", null, default));
    }

    [Test]
    public async Task LoginIdentifierRequestsAreLimitedPerNumberAndPerRequesterSoNoPhoneCanBeFlooded()
    {
        var requester = System.Net.IPAddress.Parse("203.0.113.9");
        for (var i = 0; i < ManagerAccountStore.LoginIdentifierRequestsPerPhone; i++)
        {
            await _world.Accounts.SendLoginIdentifierAsync("+41 79 123 45 67", requester, default);
        }
        var refused = Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.SendLoginIdentifierAsync("+41791234567", requester, default));
        Assert.That(refused!.Message, Does.StartWith("too many login identifier requests"));
        Assert.That(await _world.OutboxAsync(), Has.Count.EqualTo(2 * ManagerAccountStore.LoginIdentifierRequestsPerPhone), "nothing queued once refused");

        // Numbers not on file cost the requester the same: its budget is shared with reset requests.
        for (var i = 0; i < ManagerAccountStore.ResetRequestsPerRequester - ManagerAccountStore.LoginIdentifierRequestsPerPhone; i++)
        {
            await _world.Accounts.SendLoginIdentifierAsync($"+41 79 000 00 {i:00}", requester, default);
        }
        Assert.ThrowsAsync<CredentialOperationException>(() => _world.Accounts.SendLoginIdentifierAsync("+41 79 000 00 99", requester, default));
    }

    [Test]
    public async Task ConcurrentChangesOnAUnifiedPairNeverMix()
    {
        await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Unified-0", unify: true, default);
        for (var round = 0; round < 5; round++)
        {
            var first = $"First-{round}";
            var second = $"Second-{round}";
            await Task.WhenAll(
                Task.Run(() => _world.Accounts.SetPasswordAsync(Julie, first, default)),
                Task.Run(() => _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, second, unify: false, default)));
            var winner = await _world.AccountLoginAsync(Julie, first) == AccountLoginStatus.Succeeded ? first : second;
            Assert.That(await _world.AccountLoginAsync(Julie, winner), Is.EqualTo(AccountLoginStatus.Succeeded));
            Assert.That(await _world.MailLoginAsync(Julie, winner), Is.True, $"round {round}: both sides hold {winner}");
        }
    }

    [Test]
    public async Task AddRefusesBadInput()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Refusal(() => _world.Accounts.AddAsync(Julie, "x", "J", "+41791234567", "j@else.example", default)),
                Is.EqualTo($"an account with login identifier {Julie} already exists"));
            Assert.That(Refusal(() => _world.Accounts.AddAsync("a@else.example", "x", "A", "+41791234567", "A@Else.example", default)),
                Is.EqualTo("the secondary email must differ from the login identifier: it is where recovery messages go"));
            Assert.That(Refusal(() => _world.Accounts.AddAsync("a@else.example", "", "A", "+41791234567", "b@else.example", default)),
                Is.EqualTo("the password is empty"));
            Assert.That(Refusal(() => _world.Accounts.AddAsync("not-an-address", "x", "A", "+41791234567", "b@else.example", default)),
                Is.EqualTo("invalid login identifier 'not-an-address': the address has no '@'"));
            Assert.That(Refusal(() => _world.Accounts.AddAsync("a@else.example", "x", " ", "+41791234567", "b@else.example", default)),
                Is.EqualTo("the holder's name must be 1 to 100 characters on one line"));
        });
    }

    [Test]
    public async Task AuditNeverHoldsASecret()
    {
        await _world.Accounts.SetMailboxPasswordAsync(Julie, Julie, "Secret-Unified-1", unify: true, default);
        await _world.Accounts.SetPasswordAsync(Julie, "Secret-Account-2", default);
        await _world.Admin.SetPasswordAsync(Julie, "Secret-Admin-3", endSessions: true, default);
        var audit = string.Join("\n", await _world.AuditEventsAsync());
        Assert.That(audit, Does.Not.Contain("Secret-").And.Not.Contain(MailboxPassword).And.Not.Contain(AccountPassword).And.Not.Contain("$argon2"));
    }

    private static string Refusal(AsyncTestDelegate action) =>
        Assert.ThrowsAsync<CredentialOperationException>(action)!.Message;

    private async Task<IReadOnlyList<string>> StoredHashesAsync()
    {
        await using var connection = _world.Database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT password_hash FROM accounts UNION ALL SELECT password_hash FROM mailboxes";
        var hashes = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            hashes.Add(reader.GetString(0));
        }
        return hashes;
    }

    [GeneratedRegex(@"Reset token \(single use, valid until [^)]*\): ([A-Za-z0-9_-]+)\.")]
    private static partial Regex TokenRegex();
}
