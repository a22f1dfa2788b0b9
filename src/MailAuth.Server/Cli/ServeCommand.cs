using System.CommandLine;
using MailAuth.Core;
using MailAuth.Core.Observability;
using MailAuth.Core.Passwords;
using MailAuth.Server.Hosting;
using MailAuth.Server.Imap;
using MailAuth.Server.Lmtp;
using MailAuth.Server.Observability;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;
using MailAuth.Server.Tls;
using MailAuth.Server.Web;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var serve = new Command("serve", "Run the server until SIGTERM or Ctrl-C");
        serve.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var configuration = CliContext.Configuration(parse);
                var options = MailAuthConfiguration.BindOptions(configuration);
                MailAuthCoreServices.EnsureHashingAvailable();
                using var dataDirectoryLock = DataDirectoryLock.Acquire(options.DataDirectory);
                // config check's findings; the warnings serve acts on itself (it logs a certificate
                // near its end, tightens loose modes), the others it would meet a moment later.
                var refusals = (await ConfigurationCheck.RunAsync(options, TimeProvider.System, serveHoldsLock: true, cancellationToken))
                    .Where(finding => finding.Severity is CheckSeverity.Configuration or CheckSeverity.Environment).ToList();
                if (refusals.Count > 0)
                {
                    foreach (var refusal in refusals)
                    {
                        await parse.Error().WriteLineAsync(
                            "error: " + (refusal.Severity == CheckSeverity.Environment ? "cannot start: " : "") + refusal.Text);
                    }
                    return refusals.Any(refusal => refusal.Severity == CheckSeverity.Configuration) ? ExitCodes.Usage : ExitCodes.Refused;
                }
                var tightened = PrivateFiles.Tighten(options.DataDirectory);

                var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
                builder.Configuration.AddConfiguration(configuration);
                builder.Logging
                    .AddConfiguration(configuration.GetSection("Logging"))
                    .AddSimpleConsole(console =>
                    {
                        console.SingleLine = true;
                        console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                        console.UseUtcTimestamp = true;
                    });
                // Under systemd only: sd_notify READY=1 after every hosted service started (the
                // listeners are bound by then), and log lines prefixed <6>… for the journal's levels.
                builder.Services.AddSystemd();
                builder.Services.AddMailAuth(options);
                builder.Services.AddSingleton<CertificateProvider>();
                builder.Services.AddSingleton<TlsContext>();
                builder.Services.AddCertificateRenewal();
                builder.Services.AddImap(options);
                builder.Services.AddSmtp(options);
                builder.Services.AddHostedService<StartupReport>();
                // Before the listeners: it reads where the mailbox change log is before any session can exist.
                builder.Services.AddHostedService<MailboxChangeWatcher>();
                builder.Services.AddHostedService<ProtocolListenerService>();
                builder.Services.AddHostedService<ControlSocketService>();
                builder.Services.AddHostedService<MailAuth.Server.SaslService.DovecotAuthService>();
                builder.Services.AddLmtpAndSocketmap();
                builder.Services.AddSingleton<MailAuth.Server.AuthHttp.MailBackends>();
                builder.Services.AddSingleton<MailAuth.Server.AuthHttp.HomeNodeRouter>();
                builder.Services.AddSingleton<MailAuth.Server.AuthHttp.NginxAuthResponder>();
                builder.Services.AddHostedService<MailAuth.Server.AuthHttp.AuthHttpService>();
                builder.Services.AddSingleton<Readiness>();
                builder.Services.AddHostedService<MonitoringService>();
                builder.Services.AddWeb();

                using var host = builder.Build();
                PrivateFiles.LogTightened(
                    host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PrivateFiles).FullName!), tightened);
                // Empties the spool of files a killed server left, while this one holds the lock.
                _ = host.Services.GetRequiredService<MessageSpool>();
                // Open the store and load the certificate before the host starts: the host would log
                // such a failure with its stack trace before the one "error:" line.
                host.Services.OpenStorage();
                _ = host.Services.GetRequiredService<CertificateProvider>().Certificate;
                var sessions = host.Services.GetRequiredService<MailboxSessions>();
                host.Services.GetRequiredService<MailAuthMetrics>().ObserveSessions(() => sessions.Total);
                var certificates = host.Services.GetRequiredService<CertificateProvider>();
                host.Services.GetRequiredService<MailAuthMetrics>().ObserveCertificateExpiry(() => certificates.Certificate.NotAfter);
                await host.RunAsync(cancellationToken);
                return ExitCodes.Success;
            }
            catch (ConfigurationException e)
            {
                return CliContext.Fail(parse, e.Message, ExitCodes.Usage);
            }
            catch (Exception e) when (e is CredentialOperationException or PasswordHashingUnavailableException
                                          or IOException or UnauthorizedAccessException
                                          or System.Data.Common.DbException
                                          or System.Security.Cryptography.CryptographicException)
            {
                return CliContext.Fail(parse, "cannot start: " + e.Message, ExitCodes.Refused);
            }
        });
        return serve;
    }
}
