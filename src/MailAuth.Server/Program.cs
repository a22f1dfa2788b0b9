MailAuth.Server.Hosting.PrivateFiles.RestrictUmask();
return await MailAuth.Server.Cli.CommandLine.RunAsync(args);
