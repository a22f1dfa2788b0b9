using System.CommandLine;
using System.Net;
using MailAuth.Core.Authentication;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

internal static class AuthCommands
{
    public static Command Create()
    {
        var auth = new Command("auth", "Check mail credentials");
        var address = new Argument<string>("address") { Description = "The mailbox address to test" };
        var test = new Command("test", "Test an address/password pair through the same code path as an IMAP/SMTP login") { address };
        test.SetAction(CliContext.Verb(async (parse, services, ct) =>
        {
            var password = PasswordInput.Read(parse, "Password: ", confirm: false);
            var client = new ClientContext(LoginChannel.Cli, "test", IPAddress.Loopback, IsSecure: true);
            var result = await services.GetRequiredService<MailAuthenticator>()
                .AuthenticateAsync(parse.GetRequiredValue(address), password, client, ct);
            switch (result.Status)
            {
                case AuthenticationStatus.Succeeded:
                    await parse.Output().WriteLineAsync($"ok: {result.Address} accepts this password");
                    return ExitCodes.Success;
                case AuthenticationStatus.Failed:
                    // The admin may see why; a mail client never does.
                    await parse.Output().WriteLineAsync($"failed: {Describe(result.Failure)}");
                    return ExitCodes.Refused;
                default:
                    await parse.Output().WriteLineAsync("failed: the server is too busy to verify now, try again");
                    return ExitCodes.Refused;
            }
        }));
        auth.Add(test);
        return auth;
    }

    private static string Describe(AuthenticationFailure failure) => failure switch
    {
        AuthenticationFailure.MalformedAddress => "the address is malformed",
        AuthenticationFailure.UnknownAddress => "no such mailbox",
        AuthenticationFailure.WrongPassword => "wrong password",
        AuthenticationFailure.Disabled => "the mailbox is disabled",
        AuthenticationFailure.PasswordTooLong => "the password is too long",
        _ => failure.ToString(),
    };
}
