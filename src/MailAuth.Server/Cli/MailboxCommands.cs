using System.CommandLine;
using System.Text.Json;
using MailAuth.Core;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Core.Passwords;
using MailAuth.Server.Maildir;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

internal static class MailboxCommands
{
    public static Command Create()
    {
        var mailbox = new Command("mailbox", "Add, change, disable, remove, list and import mailboxes");
        var address = new Argument<string>("address") { Description = "The mailbox address, e.g. julie@family.example" };
        var generate = new Option<bool>("--generate") { Description = "Generate a strong password and print it once" };

        var homeNode = NodeCommands.Option("The node that holds its mail (default: the domain's default node, else this node)");
        var add = new Command("add", "Add a mailbox; the password is read from stdin or prompted") { address, generate, homeNode };
        add.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (!NodeCommands.TryResolve(parse, homeNode, services, out var node))
            {
                return ExitCodes.Usage;
            }
            var password = NewPassword(parse, parse.GetValue(generate));
            var parsed = EmailAddress.Parse(parse.GetRequiredValue(address));
            node ??= await services.GetRequiredService<IMailboxHomes>().FindDomainNodeAsync(parsed.Domain, ct)
                ?? services.GetRequiredService<Nodes.ClusterNodes>().ThisNode;
            if (await services.GetRequiredService<IMailboxDirectory>().FindMailboxAsync(parsed, ct) is null)
            {
                SetAsideLeftoverMail(parse.Output(), services, parsed);
            }
            var added = await Admin(services).AddMailboxAsync(parse.GetRequiredValue(address), password, node, ct);
            await parse.Output().WriteLineAsync($"mailbox {added} added");
            PrintGenerated(parse.Output(), parse.GetValue(generate), password);
            return ExitCodes.Success;
        }));

        var keepSessions = new Option<bool>("--keep-sessions")
        {
            Description = "Let the mailbox's open IMAP/SMTP sessions go on (by default they end: a password is changed because it leaked)",
        };
        var passwd = new Command("passwd", "Set a mailbox's password; read from stdin or prompted") { address, generate, keepSessions };
        passwd.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = NewPassword(parse, parse.GetValue(generate));
            var changed = await Admin(services).SetPasswordAsync(parse.GetRequiredValue(address), password, !parse.GetValue(keepSessions), ct);
            await parse.Output().WriteLineAsync($"password of {changed} changed");
            PrintGenerated(parse.Output(), parse.GetValue(generate), password);
            return ExitCodes.Success;
        }));

        var remove = new Command("remove", "Remove a mailbox") { address };
        remove.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var removed = await Admin(services).RemoveMailboxAsync(parse.GetRequiredValue(address), ct);
            await parse.Output().WriteLineAsync($"mailbox {removed} removed");
            ReportArchived(parse.Output(), services.GetRequiredService<MaildirArchive>().Archive(removed));
            return ExitCodes.Success;
        }));

        var reason = new Option<string>("--reason") { Description = "Why, shown in listings (required)", Required = true };
        var disable = new Command("disable", "Refuse all logins to a mailbox, keeping its password") { address, reason };
        disable.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var disabled = await Admin(services).DisableMailboxAsync(parse.GetRequiredValue(address), parse.GetRequiredValue(reason), ct);
            await parse.Output().WriteLineAsync($"mailbox {disabled} disabled");
            return ExitCodes.Success;
        }));

        var enable = new Command("enable", "Allow logins to a disabled mailbox again") { address };
        enable.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var enabled = await Admin(services).EnableMailboxAsync(parse.GetRequiredValue(address), ct);
            await parse.Output().WriteLineAsync($"mailbox {enabled} enabled");
            return ExitCodes.Success;
        }));

        var domain = new Option<string?>("--domain") { Description = "Only this domain's mailboxes" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "List mailboxes") { domain, json };
        list.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var mailboxes = await Admin(services).ListMailboxesAsync(parse.GetValue(domain), ct);
            var locator = services.GetRequiredService<MaildirLocator>();
            var usage = mailboxes.ToDictionary(m => m.Address, m => MailboxUsage.Peek(locator.InboxPath(m.Address)));
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(
                    mailboxes.Select(m => new
                    {
                        address = m.Address.ToString(),
                        domain = m.Address.Domain,
                        disabled = m.IsDisabled,
                        disabledReason = m.DisabledReason,
                        hashScheme = m.HashScheme,
                        createdAt = m.CreatedAt,
                        updatedAt = m.UpdatedAt,
                        quotaBytes = m.EffectiveQuotaBytes,
                        quotaSource = m.QuotaBytes is not null ? "mailbox" : m.DomainQuotaBytes is not null ? "domain" : null,
                        usedBytes = usage[m.Address],
                        homeNode = m.EffectiveHomeNode,
                    }),
                    CliContext.Json));
            }
            else
            {
                foreach (var m in mailboxes)
                {
                    var state = m.IsDisabled ? $"disabled ({m.DisabledReason})" : "enabled";
                    await parse.Output().WriteLineAsync($"{m.Address}\t{state}\t{m.HashScheme}\t{QuotaCommand.Usage(usage[m.Address], m.EffectiveQuotaBytes)}\t{m.EffectiveHomeNode ?? "-"}");
                }
            }
            return ExitCodes.Success;
        }));

        var size = new Argument<string>("size") { Description = "Bytes, or a number with K, M, G or T (500M, 2G); none: the domain's default applies" };
        var quota = new Command("quota", "Set a mailbox's storage quota (IMAP QUOTA, refused deliveries past it)") { address, size };
        quota.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (!QuotaCommand.TryParseSize(parse, size, out var bytes))
            {
                return ExitCodes.Usage;
            }
            var changed = await services.GetRequiredService<QuotaAdministration>().SetMailboxQuotaAsync(parse.GetRequiredValue(address), bytes, ct);
            await parse.Output().WriteLineAsync($"quota of {changed} set to {QuotaSize.Format(bytes)}");
            return ExitCodes.Success;
        }));

        var kick = new Command("kick", "End the mailbox's open IMAP and SMTP sessions on the running server") { address };
        kick.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var target = EmailAddress.Parse(parse.GetRequiredValue(address));
            using var answer = JsonDocument.Parse(await ControlSocketClient.AskAsync(services, "kick " + target, ct));
            if (answer.RootElement.TryGetProperty("error", out var error))
            {
                throw new CredentialOperationException(error.GetString() ?? "the server refused the request");
            }
            await parse.Output().WriteLineAsync($"ended {answer.RootElement.GetProperty("ended").GetInt32()} session(s) of {target}");
            return ExitCodes.Success;
        }));

        mailbox.Add(add);
        mailbox.Add(passwd);
        mailbox.Add(remove);
        mailbox.Add(list);
        mailbox.Add(disable);
        mailbox.Add(enable);
        mailbox.Add(kick);
        mailbox.Add(quota);
        mailbox.Add(MailboxMoveCommand.Create(address));
        mailbox.Add(ImportCommand.Create());
        return mailbox;
    }

    /// <summary>Says where a removed mailbox's mail went (it is kept, never deleted).</summary>
    public static void ReportArchived(TextWriter output, string? archivedTo)
    {
        if (archivedTo is not null)
        {
            output.WriteLine($"its mail was moved to {archivedTo}");
        }
    }

    /// <summary>
    /// A new mailbox never adopts mail found at its Maildir path (left by an earlier owner of the
    /// address whose removal could not move it, or was interrupted): it is moved to
    /// <c>DATA/removed/</c> before the mailbox row is written. Until that row exists no login or
    /// delivery can reach the directory, so if the command stops in between, the mail is archived
    /// and nobody owns the address yet; if the move fails, the mailbox is not added.
    /// </summary>
    public static void SetAsideLeftoverMail(TextWriter output, IServiceProvider services, EmailAddress address)
    {
        if (services.GetRequiredService<MaildirArchive>().Archive(address) is { } archivedTo)
        {
            output.WriteLine($"mail already at the Maildir of {address} (no mailbox owned it) was moved to {archivedTo}");
        }
    }

    private static MailboxAdministration Admin(IServiceProvider services) => services.GetRequiredService<MailboxAdministration>();

    private static string NewPassword(ParseResult parse, bool generate) =>
        generate ? PasswordGenerator.Generate() : PasswordInput.Read(parse, "New password: ", confirm: true);

    private static void PrintGenerated(TextWriter output, bool generated, string password)
    {
        if (generated)
        {
            // Shown this once; only its hash is kept.
            output.WriteLine($"password: {password}");
        }
    }
}
