return await MailAuth.Server.Cli.CommandLine.RunAsync(args);
