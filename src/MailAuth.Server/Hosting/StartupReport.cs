using MailAuth.Core.Passwords;
using MailAuth.Core.Storage;
using MailAuth.Server.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Hosting;

/// <summary>
/// Opens everything <c>serve</c> depends on before anything listens, so that a bad setting fails
/// start-up with one clear line, and logs the effective configuration (it holds no secrets).
/// </summary>
internal sealed partial class StartupReport(
    MailAuthOptions options,
    StoreDatabase database,
    IPasswordHasher hasher,
    CertificateProvider certificates,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStore(database.Description);
        LogHashing(options.Hashing.MemoryKiB, options.Hashing.Iterations, options.Hashing.Parallelism);
        _ = hasher.DummyHash; // computed now, so the first unknown-address login is not faster than the others
        _ = certificates.Certificate;
        LogListeners(
            Describe(options.Imap.Port),
            Describe(options.Imap.TlsPort),
            Describe(options.Smtp.SubmissionPort),
            Describe(options.Smtp.SubmissionsPort),
            string.IsNullOrEmpty(options.Smtp.RelayHost) ? "none" : options.Smtp.RelayHost);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        LogStopping();
        return Task.CompletedTask;
    }

    private static string Describe(int port) => port == 0 ? "disabled" : port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "store: {Path}")]
    private partial void LogStore(string path);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "hashing: argon2id m={MemoryKiB} KiB, t={Iterations}, p={Parallelism}")]
    private partial void LogHashing(int memoryKiB, int iterations, int parallelism);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information,
        Message = "ports: imap={Imap} imaps={Imaps} submission={Submission} submissions={Submissions} relay={Relay}")]
    private partial void LogListeners(string imap, string imaps, string submission, string submissions, string relay);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "stopping")]
    private partial void LogStopping();
}
