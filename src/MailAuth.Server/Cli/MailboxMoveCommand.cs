using System.CommandLine;
using MailAuth.Core.Addresses;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;
using MailAuth.Server.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary>
/// <c>mailbox move ADDRESS --node NAME [--to-data-dir PATH | --finish [--to-data-dir PATH]]</c>: the
/// mailbox is marked moving (deliveries answer 4xx, so the MTA keeps them; its sessions end on every
/// node), its Maildir set aside, copied (here, or by the operator with rsync), the copy checked by
/// message count and bytes, and only then is the target its home node and the mark cleared.
/// </summary>
internal static class MailboxMoveCommand
{
    public static Command Create(Argument<string> address)
    {
        var node = NodeCommands.Option("The node the mailbox moves to");
        var toDataDir = new Option<string?>("--to-data-dir")
        {
            Description = "The target node's data directory, when this machine reaches it (the same machine, shared storage): the copy is made here",
        };
        var finish = new Option<bool>("--finish") { Description = "End a move whose Maildir the operator copied: check the copy, then change the home node" };
        var move = new Command("move", "Move a mailbox's Maildir to another node without losing mail delivered meanwhile") { address, node, toDataDir, finish };
        move.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            if (!NodeCommands.TryResolve(parse, node, services, out var target))
            {
                return ExitCodes.Usage;
            }
            if (target is null)
            {
                return CliContext.Fail(parse, "mailbox move needs --node NAME", ExitCodes.Usage);
            }
            EmailAddress mailbox;
            try
            {
                mailbox = EmailAddress.Parse(parse.GetRequiredValue(address));
            }
            catch (InvalidAddressException e)
            {
                return CliContext.Fail(parse, e.Message, ExitCodes.Usage);
            }
            var moves = services.GetRequiredService<IMailboxMoves>();
            if (await moves.FindAsync(mailbox, ct) is not { } state)
            {
                return CliContext.Fail(parse, $"mailbox {mailbox} does not exist", ExitCodes.Usage);
            }
            var step = new MoveStep(parse, services, moves, mailbox, target, parse.GetValue(toDataDir));
            return parse.GetValue(finish) ? await step.FinishAsync(state, ct) : await step.BeginAsync(state, ct);
        }));
        return move;
    }

    private sealed class MoveStep(
        ParseResult parse, IServiceProvider services, IMailboxMoves moves, EmailAddress mailbox, string target, string? toDataDir)
    {
        private readonly MailAuthOptions _options = services.GetRequiredService<MailAuthOptions>();
        private readonly ClusterNodes _nodes = services.GetRequiredService<ClusterNodes>();

        public async Task<int> BeginAsync(MailboxMoveState state, CancellationToken ct)
        {
            if (state.MovingTo is { } movingTo)
            {
                return CliContext.Fail(parse,
                    $"mailbox {mailbox} is already being moved to node {movingTo}: once its Maildir is there, run 'mailbox move {mailbox} --node {movingTo} --finish'",
                    ExitCodes.Refused);
            }
            var home = state.HomeNode ?? _nodes.ThisNode;
            if (home == target)
            {
                return CliContext.Fail(parse, $"mailbox {mailbox} already lives on node {target}", ExitCodes.Refused);
            }
            if (home != _nodes.ThisNode)
            {
                return CliContext.Fail(parse,
                    $"mailbox {mailbox} lives on node {home}, not on this node ({_nodes.ThisNode}): run the move on {home}, whose data directory holds its Maildir",
                    ExitCodes.Usage);
            }
            var targetRoot = toDataDir is null ? null : MaildirCopy.InboxPath(toDataDir, mailbox);
            if (targetRoot is not null && MaildirCopy.Count(targetRoot).Messages > 0)
            {
                return CliContext.Fail(parse, $"{targetRoot} already holds messages: remove or rename it first", ExitCodes.Refused);
            }

            // The mark first: from here on a delivery cannot complete (MaildirDelivery asks just before its
            // rename into new/), so once the Maildir is renamed aside nothing more can land in it.
            await moves.BeginAsync(mailbox, target, ct);
            var source = MaildirCopy.InboxPath(_options.DataDirectory, mailbox);
            var aside = MaildirCopy.SetAside(_options.DataDirectory, mailbox, DateTimeOffset.UtcNow);
            var contents = aside is null ? default : MaildirCopy.Count(aside);
            await moves.RecordContentsAsync(mailbox, contents, ct);
            var output = parse.Output();
            if (targetRoot is null)
            {
                var reached = _nodes.Find(target)?.Address.ToString() ?? target;
                await output.WriteLineAsync($"mailbox {mailbox} is moving to node {target}: deliveries to it get a temporary failure (the MTA retries) until the move ends");
                await output.WriteLineAsync(aside is null
                    ? "it has no Maildir yet: nothing to copy"
                    : $"its Maildir ({contents}) is set aside at {aside}; copy it to node {target}'s data directory (DATA), e.g.");
                if (aside is not null)
                {
                    await output.WriteLineAsync($"  rsync -a --exclude='/tmp/*' --exclude='/.*/tmp/*' {aside}/ {reached}:DATA/mail/{mailbox.Domain}/{Path.GetFileName(source)}/");
                }
                await output.WriteLineAsync($"then on node {target}: mailauth mailbox move {mailbox} --node {target} --finish");
                return ExitCodes.Success;
            }

            if (aside is not null)
            {
                MaildirCopy.Copy(aside, targetRoot);
            }
            var copied = MaildirCopy.Count(targetRoot);
            if (copied != contents)
            {
                return CliContext.Fail(parse,
                    $"the copy at {targetRoot} holds {copied}, the Maildir set aside at {aside} {contents}; mailbox {mailbox} stays marked moving (see README \"Several nodes\")",
                    ExitCodes.Refused);
            }
            var late = MaildirCopy.CarryLateArrivals(source, targetRoot);
            await moves.FinishAsync(mailbox, target, ct);
            await output.WriteLineAsync($"mailbox {mailbox} moved to node {target}: {contents} copied to {targetRoot} and checked"
                + (late > 0 ? $", and {late} message(s) written at the old place meanwhile" : ""));
            if (aside is not null)
            {
                await output.WriteLineAsync($"the old Maildir is left at {aside}: remove it when you no longer need it");
            }
            return ExitCodes.Success;
        }

        public async Task<int> FinishAsync(MailboxMoveState state, CancellationToken ct)
        {
            if (state.MovingTo != target)
            {
                return CliContext.Fail(parse, $"mailbox {mailbox} is not being moved to node {target}", ExitCodes.Refused);
            }
            if (toDataDir is null && target != _nodes.ThisNode)
            {
                return CliContext.Fail(parse,
                    $"run --finish on node {target} (this is {_nodes.ThisNode}), or give its data directory with --to-data-dir", ExitCodes.Usage);
            }
            var targetRoot = MaildirCopy.InboxPath(toDataDir ?? _options.DataDirectory, mailbox);
            var expected = state.Contents ?? default;
            var copied = MaildirCopy.Count(targetRoot);
            if (copied != expected)
            {
                return CliContext.Fail(parse,
                    $"the copy at {targetRoot} holds {copied}, the Maildir held {expected} when the move began; mailbox {mailbox} stays marked moving",
                    ExitCodes.Refused);
            }
            await moves.FinishAsync(mailbox, target, ct);
            await parse.Output().WriteLineAsync($"mailbox {mailbox} moved to node {target}: {copied} at {targetRoot}, checked");
            return ExitCodes.Success;
        }
    }
}
