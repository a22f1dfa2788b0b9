using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Bench;

internal enum Protocol
{
    Imap,
    Smtp,

    /// <summary>The Dovecot auth protocol (<see cref="SaslServiceLoad"/>).</summary>
    Sasl,
}

/// <summary>One login target: where, how (implicit TLS or STARTTLS) and which protocol.</summary>
internal sealed record LoginTarget(Protocol Protocol, string Host, int Port, bool StartTls, X509Certificate2? TrustedCertificate);

internal sealed record Credential(string Address, string Password);

internal sealed record LoadReport(int Logins, int Failures, int Unexpected, TimeSpan Elapsed, double[] LatenciesMs, string? FirstError)
{
    public double Rate => Logins / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }
        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public string Format(string label) =>
        $"{label,-34} {Logins,7} logins  {Rate,8:0.0}/s  p50 {Percentile(50),7:0.0} ms  p99 {Percentile(99),7:0.0} ms  " +
        $"refused {Failures}  errors {Unexpected}" + (FirstError is null ? "" : $"  (first error: {FirstError})");
}

/// <summary>
/// Drives concurrent clients through connect + TLS + authenticate + logout, each login on a new
/// connection, as phones and desktop clients do. Works against any IMAP or submission server.
/// </summary>
internal sealed class LoginLoad(LoginTarget target, IReadOnlyList<Credential> users, bool expectSuccess, bool noRepeat = false)
{
    /// <summary>Each login on a new connection: a client keeps nothing between attempts.</summary>
    public Task<LoadReport> RunAsync(int clients, TimeSpan duration, CancellationToken cancellationToken) =>
        LoadLoop.RunAsync(users, expectSuccess, noRepeat, clients, duration, () => new OneShotClient(this), cancellationToken);

    private sealed class OneShotClient(LoginLoad load) : ILoadClient
    {
        public Task<bool> AttemptAsync(Credential user, CancellationToken cancellationToken) => load.LoginOnceAsync(user, cancellationToken);

        public void Reset()
        {
        }

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// Logs in on a new IMAP connection and leaves it open and idle (authenticated state);
    /// the caller disposes the returned connection.
    /// </summary>
    public async Task<IDisposable> OpenIdleImapAsync(Credential user, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(target.Host, target.Port, cancellationToken);
            var stream = await TlsAsync(tcp.GetStream(), cancellationToken);
            var session = new LineSession(stream);
            await session.ExpectAsync("* OK", cancellationToken);
            var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user.Address}\0{user.Password}"));
            await session.SendAsync($"a AUTHENTICATE PLAIN {plain}", cancellationToken);
            if (!(await session.ReadTaggedAsync("a ", cancellationToken)).StartsWith("a OK", StringComparison.Ordinal))
            {
                throw new ProtocolException($"login of {user.Address} refused");
            }
            return tcp;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>The time from sending the AUTH command to its answer, on a fresh TLS connection.</summary>
    public async Task<(TimeSpan Elapsed, bool Accepted)> TimeAuthenticationAsync(Credential user, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(target.Host, target.Port, cancellationToken);
        var session = new LineSession(await TlsAsync(tcp.GetStream(), cancellationToken));
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user.Address}\0{user.Password}"));
        string reply;
        long started;
        if (target.Protocol == Protocol.Imap)
        {
            await session.ExpectAsync("* OK", cancellationToken);
            started = Stopwatch.GetTimestamp();
            await session.SendAsync($"a AUTHENTICATE PLAIN {plain}", cancellationToken);
            reply = await session.ReadTaggedAsync("a ", cancellationToken);
        }
        else
        {
            await session.ReadSmtpReplyAsync("220", cancellationToken);
            await session.SendAsync("EHLO bench.example", cancellationToken);
            await session.ReadSmtpReplyAsync("250", cancellationToken);
            started = Stopwatch.GetTimestamp();
            await session.SendAsync($"AUTH PLAIN {plain}", cancellationToken);
            reply = await session.ReadSmtpReplyAsync(null, cancellationToken);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        return (elapsed, reply.StartsWith("a OK", StringComparison.Ordinal) || reply.StartsWith("235", StringComparison.Ordinal));
    }

    /// <summary>One full login on a fresh connection; true when the server accepted the password.</summary>
    public async Task<bool> LoginOnceAsync(Credential user, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(target.Host, target.Port, cancellationToken);
        Stream stream = tcp.GetStream();
        if (!target.StartTls)
        {
            stream = await TlsAsync(stream, cancellationToken);
        }
        var session = new LineSession(stream);
        return target.Protocol == Protocol.Imap
            ? await ImapAsync(session, tcp, user, cancellationToken)
            : await SmtpAsync(session, tcp, user, cancellationToken);
    }

    private async Task<bool> ImapAsync(LineSession session, TcpClient tcp, Credential user, CancellationToken cancellationToken)
    {
        await session.ExpectAsync("* OK", cancellationToken);
        if (target.StartTls)
        {
            await session.SendAsync("s STARTTLS", cancellationToken);
            await session.ReadTaggedAsync("s ", cancellationToken);
            session = new LineSession(await TlsAsync(tcp.GetStream(), cancellationToken));
        }
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user.Address}\0{user.Password}"));
        await session.SendAsync($"a AUTHENTICATE PLAIN {plain}", cancellationToken);
        var accepted = (await session.ReadTaggedAsync("a ", cancellationToken)).StartsWith("a OK", StringComparison.Ordinal);
        await session.SendAsync("z LOGOUT", cancellationToken);
        await session.ReadTaggedAsync("z ", cancellationToken);
        return accepted;
    }

    private async Task<bool> SmtpAsync(LineSession session, TcpClient tcp, Credential user, CancellationToken cancellationToken)
    {
        await session.ReadSmtpReplyAsync("220", cancellationToken);
        await session.SendAsync("EHLO bench.example", cancellationToken);
        await session.ReadSmtpReplyAsync("250", cancellationToken);
        if (target.StartTls)
        {
            await session.SendAsync("STARTTLS", cancellationToken);
            await session.ReadSmtpReplyAsync("220", cancellationToken);
            session = new LineSession(await TlsAsync(tcp.GetStream(), cancellationToken));
            await session.SendAsync("EHLO bench.example", cancellationToken);
            await session.ReadSmtpReplyAsync("250", cancellationToken);
        }
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user.Address}\0{user.Password}"));
        await session.SendAsync($"AUTH PLAIN {plain}", cancellationToken);
        var reply = await session.ReadSmtpReplyAsync(null, cancellationToken);
        await session.SendAsync("QUIT", cancellationToken);
        await session.ReadSmtpReplyAsync(null, cancellationToken);
        return reply.StartsWith("235", StringComparison.Ordinal);
    }

    private async Task<Stream> TlsAsync(Stream inner, CancellationToken cancellationToken)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: true, (_, certificate, _, errors) =>
            errors == SslPolicyErrors.None
            || (target.TrustedCertificate is not null && certificate is not null
                && certificate.GetRawCertData().AsSpan().SequenceEqual(target.TrustedCertificate.RawData)));
        var options = new SslClientAuthenticationOptions { TargetHost = target.Host };
        if (target.TrustedCertificate is not null)
        {
            // The server's certificate is the only trust anchor. Besides being the right check, this
            // keeps the load generator light: a chain built against the system store copies and
            // sorts its ~140 roots into a new OpenSSL store on every handshake, which cost the
            // client more CPU than the whole login cost the server.
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.Add(target.TrustedCertificate);
        }
        await tls.AuthenticateAsClientAsync(options, cancellationToken);
        return tls;
    }
}

internal sealed class ProtocolException(string message) : Exception(message);

/// <summary>One simulated client of a load run; <see cref="Reset"/> drops any connection after an error.</summary>
internal interface ILoadClient : IDisposable
{
    Task<bool> AttemptAsync(Credential user, CancellationToken cancellationToken);

    void Reset();
}

/// <summary>
/// The run shared by every load: N clients take users in turn until the time is up (or, with
/// noRepeat, until every user had one attempt), timing each attempt and counting refusals and errors.
/// </summary>
internal static class LoadLoop
{
    public static async Task<LoadReport> RunAsync(
        IReadOnlyList<Credential> users, bool expectSuccess, bool noRepeat, int clients, TimeSpan duration,
        Func<ILoadClient> createClient, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var next = -1;
        string? firstError = null;
        var latencies = new List<double>[clients];
        var outcomes = new (int Refused, int Errors)[clients];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            latencies[client] = [];
            using var simulated = createClient();
            while (!stop.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref next);
                if (noRepeat && index >= users.Count)
                {
                    break; // Every user logged in once: a cold run must not turn warm.
                }
                var user = users[(int)((uint)index % users.Count)];
                var started = Stopwatch.GetTimestamp();
                bool accepted;
                try
                {
                    accepted = await simulated.AttemptAsync(user, stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is IOException or SocketException or AuthenticationException or ProtocolException)
                {
                    if (stop.IsCancellationRequested)
                    {
                        break; // Cut off by the end of the run, not a server error.
                    }
                    outcomes[client].Errors++;
                    Interlocked.CompareExchange(ref firstError, $"{user.Address}: {e.GetType().Name}: {e.Message}", null);
                    simulated.Reset();
                    continue;
                }
                latencies[client].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (accepted != expectSuccess)
                {
                    outcomes[client].Refused++;
                }
            }
        }));
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).ToArray();
        return new LoadReport(all.Length, outcomes.Sum(o => o.Refused), outcomes.Sum(o => o.Errors), elapsed, all, firstError);
    }
}
