using System.Net;
using MailAuth.Core.Observability;
using MailAuth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace MailAuth.Server.Observability;

/// <summary>
/// <c>/metrics</c> (Prometheus text format, OpenTelemetry's exporter reading the <c>MailAuth</c>
/// meter), <c>/healthz</c> and <c>/readyz</c> on <c>MailAuth:Metrics:Port</c>, bound to
/// <c>MailAuth:Metrics:BindAddress</c> (loopback unless configured). Nothing when not enabled, or
/// with port 0: the web listener serves them then (<see cref="AddPrometheus"/>).
/// </summary>
internal sealed partial class MonitoringService(
    MailAuthOptions options,
    Readiness readiness,
    ILoggerFactory loggerFactory,
    ILogger<MonitoringService> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Metrics;
        if (!settings.Enabled || settings.Port == 0)
        {
            return; // Port 0: on the web listener (Web/WebService.cs), refused by the configuration check when that is off.
        }
        // The empty builder reads no configuration of its own (as for auth_http).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        AddPrometheus(builder.Services);
        var endPoint = new IPEndPoint(IPAddress.Parse(settings.BindAddress), settings.Port);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Listen(endPoint);
        });
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint();
        app.Run(AnswerAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new IOException($"cannot listen on {endPoint} (MailAuth:Metrics:Port): {e.Message}", e);
        }
        _app = app;
        LogListening(endPoint.ToString());
    }

    /// <summary>The exporter of the <c>MailAuth</c> meter, for this port and for the web listener.</summary>
    public static void AddPrometheus(IServiceCollection services) =>
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mailauth"))
            .WithMetrics(metrics => metrics
            .AddMeter(MailAuthMetrics.MeterName)
            // Every scrape sees the counters as they are now, not a copy up to 300 ms old.
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));

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

    private async Task AnswerAsync(HttpContext context)
    {
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                await HealthEndpoints.HealthzAsync(context);
                return;
            case "/readyz":
                await HealthEndpoints.ReadyzAsync(context, readiness);
                return;
            default:
                context.Response.ContentType = "text/plain; charset=utf-8";
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync("not found: /metrics, /healthz and /readyz are served here\n", context.RequestAborted);
                return;
        }
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "listening metrics on {EndPoint} (/metrics, /healthz, /readyz)")]
    private partial void LogListening(string endPoint);
}
