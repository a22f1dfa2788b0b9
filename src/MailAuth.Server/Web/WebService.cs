using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Threading.RateLimiting;
using MailAuth.Core.Accounts;
using MailAuth.Core.Authentication;
using MailAuth.Core.Mailboxes;
using MailAuth.Server.Hosting;
using MailAuth.Server.Observability;
using MailAuth.Server.Tls;
using MailAuth.Server.Tls.Acme;
using MailAuth.Server.Web.Api;
using MailAuth.Server.Web.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Web;

/// <summary>
/// The web listener (<c>MailAuth:Web</c>): Kestrel with HTTPS on <c>Port</c> and, when set, plain
/// HTTP on <c>HttpPort</c>, which answers only <see cref="WebEndpoints.ServedOverPlainHttp"/> and
/// redirects the rest. Off unless <c>Port</c> is set. Every limit is set here, none left to Kestrel's defaults.
/// </summary>
internal sealed partial class WebService(
    MailAuthOptions options,
    CertificateProvider certificates,
    IServiceProvider services,
    ILoggerFactory loggerFactory,
    ILogger<WebService> logger) : IHostedService, IAsyncDisposable
{
    private readonly WebOptions _options = options.Web;
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }
        var metricsHere = options.Metrics.Enabled && options.Metrics.Port == 0;
        var tlsAlpnChallenges = services.GetService<AcmeTlsAlpnChallenges>() ?? new AcmeTlsAlpnChallenges();
        // The empty builder reads no configuration of its own (as for auth_http and metrics).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddRouting();
        foreach (var shared in new[] { typeof(HostedDomainLookup), typeof(MailServerSettings), typeof(MailboxApi), typeof(TimeProvider), typeof(Readiness), typeof(AcmeHttpChallenges),
            typeof(MailboxHolder), typeof(MailboxAdministration), typeof(ManagerAccountService) })
        {
            builder.Services.AddSingleton(shared, services.GetRequiredService(shared));
        }
        builder.Services.AddSingleton(_options);
        builder.Services.AddPages();
        builder.Services.AddManagerApi();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                RateLimitPartition.GetFixedWindowLimiter(
                    ClientNetwork.Of(context.Connection.RemoteIpAddress ?? IPAddress.IPv6None),
                    _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = _options.MaxRequestsPerMinutePerAddress,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    }));
            limiter.OnRejected = (rejected, _) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "60";
                // The API's refusals all have one JSON shape, this one too.
                return rejected.HttpContext.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                    ? new ValueTask(WebAnswers.JsonAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests,
                        new { result = "throttled", message = "too many requests from this network this minute; try again later" }))
                    : ValueTask.CompletedTask;
            };
        });
        if (metricsHere)
        {
            MonitoringService.AddPrometheus(builder.Services);
        }
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = _options.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
            kestrel.Limits.MaxRequestHeadersTotalSize = _options.MaxRequestHeaderBytes;
            kestrel.Limits.MaxRequestLineSize = Math.Min(8 * 1024, _options.MaxRequestHeaderBytes);
            kestrel.Limits.MaxRequestHeaderCount = 64;
            kestrel.Limits.MaxRequestBodySize = _options.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(_options.RequestHeadersTimeoutSeconds);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(_options.KeepAliveTimeoutSeconds);
            // A body trickled slower than this is cut (slowloris on the body); Kestrel's default, said here.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            kestrel.Limits.Http2.MaxStreamsPerConnection = 32;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = _options.MaxRequestHeaderBytes;
            Listen(kestrel, _options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                var handshakeTimeout = TimeSpan.FromSeconds(_options.TlsHandshakeTimeoutSeconds);
                listen.UseAcmeTlsAlpnDetection(tlsAlpnChallenges, handshakeTimeout);
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    // Asked at each handshake, so that a renewed certificate is served without a restart;
                    // its context sends the intermediates too, without which a client finds no path to its root.
                    OnConnection = context => ValueTask.FromResult(AcmeTlsAlpnListener.ChallengeOptions(
                        tlsAlpnChallenges, context.Connection, context.ClientHelloInfo.ServerName) ?? new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = certificates.Current.Context,
                            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                        }),
                    HandshakeTimeout = handshakeTimeout,
                });
            });
            if (_options.HttpPort != 0)
            {
                Listen(kestrel, _options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        app.Use(SecureOrRedirectAsync);
        app.UseRateLimiter();
        if (metricsHere)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint();
        }
        app.UseRouting();
        WebEndpoints.Map(app, options);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new IOException($"cannot listen on {_options.BindAddress} port {_options.Port} or {_options.HttpPort} (MailAuth:Web): {e.Message}", e);
        }
        _app = app;
        LogListening("https", Name(_options.Port), metricsHere ? " with /metrics, /healthz, /readyz" : "");
        if (_options.HttpPort != 0)
        {
            LogListening("http", Name(_options.HttpPort), "");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>
    /// On HTTPS: HSTS, no MIME sniffing, and for the pages a strict Content-Security-Policy (this
    /// origin's style sheet and images, no script at all, forms posted here only, never framed). On plain HTTP: only what clients fetch there; the rest
    /// goes to the same host and path on the HTTPS port (308 keeps a POST a POST).
    /// </summary>
    private Task SecureOrRedirectAsync(HttpContext context, Func<Task> next)
    {
        var response = context.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.IsHttps)
        {
            response.Headers.StrictTransportSecurity = "max-age=31536000";
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            response.Headers.XFrameOptions = "DENY";
            response.Headers["Referrer-Policy"] = "no-referrer";
            return next();
        }
        if (WebEndpoints.ServedOverPlainHttp(context.Request.Path))
        {
            return next();
        }
        var host = context.Request.Host.Host;
        if (string.IsNullOrEmpty(host))
        {
            return WebAnswers.TextAsync(context, StatusCodes.Status400BadRequest, "a Host header is required\n");
        }
        var authority = _options.Port == 443 ? new HostString(host) : new HostString(host, _options.Port);
        response.StatusCode = StatusCodes.Status308PermanentRedirect;
        response.Headers.Location = UriHelperBuild(authority, context.Request);
        return Task.CompletedTask;
    }

    private static string UriHelperBuild(HostString authority, HttpRequest request) =>
        Microsoft.AspNetCore.Http.Extensions.UriHelper.BuildAbsolute("https", authority, request.PathBase, request.Path, request.QueryString);

    private void Listen(KestrelServerOptions kestrel, int port, Action<ListenOptions> configure)
    {
        if (_options.BindAddress == "*")
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(_options.BindAddress), port, configure);
        }
    }

    private string Name(int port) => _options.BindAddress + ":" + port.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 950, Level = LogLevel.Information, Message = "listening web {Scheme} on {EndPoint}{Extra}")]
    private partial void LogListening(string scheme, string endPoint, string extra);
}
