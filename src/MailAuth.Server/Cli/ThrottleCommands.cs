using System.CommandLine;
using System.Text.Json;
using MailAuth.Core;
using MailAuth.Core.Authentication;

namespace MailAuth.Server.Cli;

/// <summary><c>throttle list</c> and <c>throttle clear</c>: the running server's failure counters, over its control socket.</summary>
internal static class ThrottleCommands
{
    public static Command Create()
    {
        var throttle = new Command("throttle", "See and lift the running server's login throttling");
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "Networks and addresses with recent failures, most throttled first (this node's, then those all nodes share)") { json };
        list.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var answer = await ControlSocketClient.AskAsync(services, "throttle-list", ct);
            var entries = JsonSerializer.Deserialize<List<ThrottleEntry>>(answer, CliContext.Json) ?? [];
            if (parse.GetValue(json))
            {
                await parse.Output().WriteLineAsync(JsonSerializer.Serialize(entries, CliContext.Json));
                return ExitCodes.Success;
            }
            foreach (var entry in entries)
            {
                await parse.Output().WriteLineAsync($"{entry.Kind}\t{entry.Key}\t{entry.Failures:0.##}/{entry.Limit}{(entry.Blocked ? "\tblocked" : "")}{(entry.Shared ? "\tshared" : "")}");
            }
            return ExitCodes.Success;
        }));

        var key = new Argument<string>("ip-or-address") { Description = "An IP address (its /64 for IPv6) or a mailbox address" };
        var clear = new Command("clear", "Forget the failures of an IP address or a mailbox address") { key };
        clear.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var target = parse.GetRequiredValue(key).Trim();
            if (target.Length == 0 || target.Length > 300 || target.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new CredentialOperationException("give one IP address or mailbox address");
            }
            using var answer = JsonDocument.Parse(await ControlSocketClient.AskAsync(services, "throttle-clear " + target, ct));
            if (answer.RootElement.TryGetProperty("error", out var error))
            {
                return CliContext.Fail(parse, error.GetString() ?? "the server refused", ExitCodes.Refused);
            }
            await parse.Output().WriteLineAsync($"cleared {answer.RootElement.GetProperty("cleared").GetInt32()} entr(y/ies) for {target}");
            return ExitCodes.Success;
        }));
        throttle.Add(list);
        throttle.Add(clear);
        return throttle;
    }
}
