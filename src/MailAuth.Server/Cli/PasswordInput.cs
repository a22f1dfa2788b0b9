using System.CommandLine;
using System.Text;
using MailAuth.Core;

namespace MailAuth.Server.Cli;

/// <summary>
/// Passwords come from standard input (one line) or, on a terminal, from a prompt without echo;
/// never from the command line, where every user of the machine could read them in the process list.
/// </summary>
internal static class PasswordInput
{
    public static string Read(ParseResult parse, string prompt, bool confirm)
    {
        var invocation = CliInvocation.Of(parse);
        if (invocation.InputIsRedirected())
        {
            return invocation.Input.ReadLine() ?? throw new CredentialOperationException("no password on standard input");
        }
        var error = parse.Error();
        var password = Prompt(error, prompt);
        if (confirm && Prompt(error, "Repeat: ") != password)
        {
            throw new CredentialOperationException("the two passwords differ");
        }
        return password;
    }

    private static string Prompt(TextWriter error, string prompt)
    {
        error.Write(prompt);
        var typed = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                error.WriteLine();
                return typed.ToString();
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0)
                {
                    typed.Length--;
                }
            }
            else if (key.KeyChar != '\0')
            {
                typed.Append(key.KeyChar);
            }
        }
    }
}
