using System.CommandLine;
using MailAuth.Core.Mailboxes;

namespace MailAuth.Server.Cli;

/// <summary>What <c>mailbox quota</c> and <c>domain quota</c> share: the size argument and how usage is shown.</summary>
internal static class QuotaCommand
{
    /// <summary>The size given (null for <c>none</c>); a bad one is one line on stderr and false.</summary>
    public static bool TryParseSize(ParseResult parse, Argument<string> size, out long? bytes)
    {
        try
        {
            bytes = QuotaSize.Parse(parse.GetRequiredValue(size));
            return true;
        }
        catch (FormatException e)
        {
            CliContext.Fail(parse, e.Message, ExitCodes.Usage);
            bytes = null;
            return false;
        }
    }

    /// <summary>"12M/2G (1%)", or "12M/none" without a quota; sizes rounded down to their unit.</summary>
    public static string Usage(long used, long? limit) =>
        limit is { } l && l > 0
            ? $"{Rounded(used)}/{QuotaSize.Format(l)} ({used * 100 / l}%)"
            : $"{Rounded(used)}/{QuotaSize.Format(limit)}";

    private static string Rounded(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes >> 30}G" : bytes >= 1L << 20 ? $"{bytes >> 20}M" : bytes >= 1L << 10 ? $"{bytes >> 10}K" : $"{bytes}";
}
