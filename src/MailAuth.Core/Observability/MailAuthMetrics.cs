using System.Diagnostics.Metrics;
using MailAuth.Core.Authentication;

namespace MailAuth.Core.Observability;

/// <summary>
/// Every instrument of the <c>MailAuth</c> meter, in one place so that the names stay one
/// family. The Prometheus exporter turns <c>mailauth.login.attempts</c> into
/// <c>mailauth_login_attempts_total</c> and appends the unit (<c>s</c> → <c>_seconds</c>,
/// <c>By</c> → <c>_bytes</c>). Tag values come from closed sets (protocol, listener, result,
/// reason words): never an address or a client IP, so the number of series stays bounded.
/// </summary>
public sealed class MailAuthMetrics : IDisposable
{
    public const string MeterName = "MailAuth";

    /// <summary>From half a millisecond (a cache hit) to 10 s (Argon2 behind a full queue).</summary>
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _loginAttempts;
    private readonly Histogram<double> _loginDuration;
    private readonly Histogram<double> _hashingWait;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _throttleBlocked;
    private readonly Histogram<double> _storeDuration;
    private long _credentialStoreErrors;
    private long _changeLogStoreErrors;
    private readonly Counter<long> _connections;
    private readonly UpDownCounter<long> _openConnections;
    private readonly Counter<long> _tlsHandshakes;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _messageBytes;
    private readonly Counter<long> _acmeRenewalFailures;

    public MailAuthMetrics()
    {
        var latency = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        _loginAttempts = _meter.CreateCounter<long>(
            "mailauth.login.attempts", "{attempt}", "Mail logins by protocol, mechanism, result and reason (the words of the auth log line)");
        _loginDuration = _meter.CreateHistogram(
            "mailauth.login.duration", "s", "Time to answer a mail login; verification: cached (no Argon2), cold (Argon2 ran or was joined), refused (throttled or busy)",
            advice: latency);
        _hashingWait = _meter.CreateHistogram(
            "mailauth.argon2.queue.wait", "s", "Time an Argon2 job waited in the queue for a worker", advice: latency);
        _cacheLookups = _meter.CreateCounter<long>(
            "mailauth.login.cache.lookups", "{lookup}", "Verified-login cache lookups by result (hit, miss)");
        _throttleBlocked = _meter.CreateCounter<long>(
            "mailauth.throttle.blocked", "{attempt}", "Mail logins refused by the failure throttle before any verification, by protocol");
        _storeDuration = _meter.CreateHistogram(
            "mailauth.store.query.duration", "s", "Time of store queries on the login path, by query", advice: latency);
        // Observed, so that both series exist from the start and an alert on their rate sees the first error.
        _meter.CreateObservableCounter(
            "mailauth.store.errors",
            () => new[]
            {
                new Measurement<long>(Interlocked.Read(ref _credentialStoreErrors), new KeyValuePair<string, object?>("query", "credential")),
                new Measurement<long>(Interlocked.Read(ref _changeLogStoreErrors), new KeyValuePair<string, object?>("query", "change-log")),
            },
            "{error}",
            "Store queries that failed (database unreachable, locked, corrupt), by query");
        _connections = _meter.CreateCounter<long>(
            "mailauth.connections", "{connection}", "Connections accepted by listener and result (admitted, rejected by the connection limits)");
        _openConnections = _meter.CreateUpDownCounter<long>(
            "mailauth.connections.open", "{connection}", "Connections open now, by listener");
        _tlsHandshakes = _meter.CreateCounter<long>(
            "mailauth.tls.handshakes", "{handshake}", "TLS handshakes (implicit TLS and STARTTLS) by listener and result (ok, failed)");
        _messages = _meter.CreateCounter<long>(
            "mailauth.messages", "{message}", "SMTP messages by outcome: delivered (to local mailboxes), relayed, refused (after DATA)");
        _messageBytes = _meter.CreateCounter<long>(
            "mailauth.messages.size", "By", "Bytes of the messages counted in mailauth_messages_total, by outcome");
        _acmeRenewalFailures = _meter.CreateCounter<long>(
            "mailauth.acme.renewal.failures", "{attempt}", "ACME attempts to obtain or renew the certificate that failed (the certificate in use stays)");
    }

    /// <summary>One answered mail login, with the words of its log line.</summary>
    public void LoginAnswered(string protocol, string mechanism, string result, string reason, string verification, TimeSpan duration)
    {
        _loginAttempts.Add(1,
            new("protocol", protocol), new("mechanism", BoundedMechanism(mechanism)), new("result", result), new("reason", reason));
        _loginDuration.Record(duration.TotalSeconds, new("protocol", protocol), new("verification", verification));
        if (reason == "throttled")
        {
            _throttleBlocked.Add(1, new KeyValuePair<string, object?>("protocol", protocol));
        }
    }

    public void LoginCacheLookup(bool hit) => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void HashingWaited(TimeSpan wait) => _hashingWait.Record(wait.TotalSeconds);

    public void StoreQueried(string query, TimeSpan duration) =>
        _storeDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("query", query));

    /// <summary>A login's credential lookup failed in the store.</summary>
    public void CredentialLookupFailed() => Interlocked.Increment(ref _credentialStoreErrors);

    /// <summary>The session watcher's poll of the mailbox change log failed in the store.</summary>
    public void ChangeLogReadFailed() => Interlocked.Increment(ref _changeLogStoreErrors);

    public void ConnectionAccepted(string listener, bool admitted) =>
        _connections.Add(1, new("listener", listener), new("result", admitted ? "admitted" : "rejected"));

    public void ConnectionOpened(string listener) => _openConnections.Add(1, new KeyValuePair<string, object?>("listener", listener));

    public void ConnectionClosed(string listener) => _openConnections.Add(-1, new KeyValuePair<string, object?>("listener", listener));

    public void TlsHandshake(string listener, bool succeeded) =>
        _tlsHandshakes.Add(1, new("listener", listener), new("result", succeeded ? "ok" : "failed"));

    /// <summary><paramref name="outcome"/>: delivered, relayed or refused.</summary>
    public void Message(string outcome, long bytes)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _messages.Add(1, tag);
        _messageBytes.Add(bytes, tag);
    }

    /// <summary>The Argon2 pool's queue and workers, read at each scrape.</summary>
    public void Observe(HashingPool pool)
    {
        _meter.CreateObservableGauge("mailauth.argon2.queue.depth", () => pool.Queued, "{job}", "Argon2 jobs waiting for a worker");
        _meter.CreateObservableGauge("mailauth.argon2.workers.busy", () => pool.Busy, "{worker}", "Argon2 workers running a job");
        _meter.CreateObservableGauge("mailauth.argon2.workers", () => pool.Workers, "{worker}", "Argon2 workers (MailAuth:Hashing:Workers)");
    }

    public void Observe(VerifiedLoginCache cache) =>
        _meter.CreateObservableGauge("mailauth.login.cache.entries", () => cache.Count, "{entry}", "Entries in the verified-login cache");

    public void Observe(FailureThrottle throttle) =>
        _meter.CreateObservableGauge("mailauth.throttle.entries", () => throttle.TrackedFailureEntries, "{entry}",
            "Failure scores the throttle keeps (per network and address, per address, per network)");

    /// <summary>The notification outbox's unsent rows; <paramref name="pending"/> queries the store at each scrape.</summary>
    public void ObserveOutbox(Func<long> pending) =>
        _meter.CreateObservableGauge("mailauth.outbox.pending", pending, "{row}", "Notifications queued in the outbox and not yet sent");

    /// <summary>Sessions logged in now (IMAP and SMTP), read at each scrape.</summary>
    public void ObserveSessions(Func<long> open) =>
        _meter.CreateObservableGauge("mailauth.sessions.open", open, "{session}", "Authenticated IMAP and SMTP sessions open now");

    public void AcmeRenewalFailed() => _acmeRenewalFailures.Add(1);

    /// <summary>The served certificate's end of validity (Unix time), read at each scrape: follows a reloaded certificate.</summary>
    public void ObserveCertificateExpiry(Func<DateTimeOffset> notAfter) =>
        _meter.CreateObservableGauge("mailauth.tls.certificate.expiry.timestamp", () => notAfter().ToUnixTimeSeconds(), "s",
            "When the TLS certificate the listeners serve expires, as Unix time");

    public void Dispose() => _meter.Dispose();

    /// <summary>SASL mechanism names are a short closed list; anything else is counted as one value.</summary>
    private static string BoundedMechanism(string mechanism) => mechanism.ToUpperInvariant() switch
    {
        "PLAIN" => "plain",
        "LOGIN" => "login",
        "LOGIN-COMMAND" => "login-command",
        "CRAM-MD5" => "cram-md5",
        "EXTERNAL" => "external",
        "TEST" => "test",
        "BASIC" => "basic",
        "JSON" => "json",
        _ => "other",
    };
}
