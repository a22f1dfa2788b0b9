using System.CommandLine;

namespace MailAuth.Server.Cli;

internal static class CommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("MailAuth: mail credential backend (IMAP and SMTP submission logins by mailbox address and password)")
        {
            CliContext.ConfigOption,
            ServeCommand.Create(),
            ConfigCommands.Create(),
            DomainCommands.Create(),
            MailboxCommands.Create(),
            AuthCommands.Create(),
            AccountCommands.Create(),
            ThrottleCommands.Create(),
            DnsCommands.Create(),
            StoreCopyCommand.Create(),
            NodeCommands.Create(),
        };
        foreach (var journal in JournalCommands.Create())
        {
            root.Add(journal);
        }
        return root;
    }

    public static Task<int> RunAsync(string[] args) => RunAsync(args, new CliInvocation { EnableDefaultExceptionHandler = true });

    public static async Task<int> RunAsync(string[] args, CliInvocation invocation)
    {
        var parseResult = Create().Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            return CliContext.Fail(invocation.Error, $"{parseResult.Errors[0].Message} (see --help)", ExitCodes.Usage);
        }
        return await parseResult.InvokeAsync(invocation);
    }
}
