using System.Net;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.AuthHttp;

/// <summary>
/// nginx's <c>auth_http</c> endpoint: Kestrel on 127.0.0.1 only and/or a UNIX socket, never a
/// public address, because its client is trusted to report the mail client's address
/// (<c>Client-IP</c>). So each connection's caller is identified by the kernel
/// (<see cref="LocalPeer"/>) and must be one of <c>MailAuth:AuthHttp:AllowedUsers</c>, and on the TCP
/// port it must also send the shared secret. Any path answers, since nginx's URI is the operator's choice.
/// </summary>
internal sealed partial class AuthHttpService(
    MailAuthOptions options,
    NginxAuthResponder responder,
    ILoggerFactory loggerFactory,
    ILogger<AuthHttpService> logger) : IHostedService, IAsyncDisposable
{
    private readonly AuthHttpOptions _options = options.AuthHttp;
    private readonly AllowedCallers _callers = AllowedCallers.Resolve(
        "MailAuth:AuthHttp:AllowedUsers", options.AuthHttp.AllowedUsers, AuthHttpOptions.DefaultAllowedUsers);

    /// <summary>Set in a connection's items when its caller is not allowed.</summary>
    private static readonly object RefusedCaller = new();
    private WebApplication? _app;

    /// <summary>The socket path, relative paths taken in the data directory; null when off.</summary>
    public static string? SocketPathFor(MailAuthOptions options) =>
        string.IsNullOrEmpty(options.AuthHttp.SocketPath) ? null : Path.Combine(options.DataDirectory, options.AuthHttp.SocketPath);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var socketPath = SocketPathFor(options);
        if (_options.Port == 0 && socketPath is null)
        {
            return;
        }
        // The empty builder reads no configuration files or environment of its own: every setting
        // comes from MailAuth's configuration, and its log goes through MailAuth's logger.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // nginx 1.22 %-escapes spaces, % and control bytes but passes a UTF-8 password's other
            // bytes as they are: Latin-1 keeps every byte as one char, decoded as UTF-8 later.
            kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
            kestrel.Limits.MaxConcurrentConnections = _options.MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = _options.MaxRequestBytes;
            kestrel.Limits.MaxRequestLineSize = Math.Min(8 * 1024, _options.MaxRequestBytes);
            kestrel.Limits.MaxRequestHeaderCount = 64;
            kestrel.Limits.MaxRequestBodySize = 0; // nginx sends GET without a body
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            if (_options.Port != 0)
            {
                var name = "127.0.0.1:" + _options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                kestrel.Listen(IPAddress.Loopback, _options.Port, listen => listen.Use((connection, next) => IdentifyCallerAsync(connection, name, next)));
            }
            if (socketPath is not null)
            {
                UnixSocketFile.Remove(socketPath); // Kestrel binds it
                kestrel.ListenUnixSocket(socketPath, listen => listen.Use((connection, next) => IdentifyCallerAsync(connection, "unix:" + socketPath, next)));
            }
        });
        var app = builder.Build();
        app.Run(context => AnswerAsync(context));
        await app.StartAsync(cancellationToken);
        if (socketPath is not null)
        {
            UnixSocketFile.Restrict(socketPath, UnixSocketFile.OwnerAndGroup);
            LogListening("unix:" + socketPath);
        }
        if (_options.Port != 0)
        {
            LogListening("127.0.0.1:" + _options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        LogCallers(_callers.ToString(), LocalPeer.TcpMethod);
        _app = app;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            if (SocketPathFor(options) is { } socketPath)
            {
                UnixSocketFile.Remove(socketPath);
            }
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
    /// Once per connection, before Kestrel reads a request: who opened it. A caller not allowed is
    /// marked, logged once, and every request on the connection gets <see cref="NginxAuthResponder.CallerRefused"/>.
    /// </summary>
    private Task IdentifyCallerAsync(ConnectionContext connection, string listener, Func<Task> next)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var peer = socket is null ? null : LocalPeer.Identify(socket);
        if (peer is not { } caller)
        {
            LogUnknownCaller(listener);
            connection.Items[RefusedCaller] = RefusedCaller;
        }
        else if (!_callers.Allows(caller.UserId))
        {
            LogRefusedCaller(listener, caller.ToString());
            connection.Items[RefusedCaller] = RefusedCaller;
        }
        return next();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        NginxAuthAnswer answer;
        if (context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(RefusedCaller) != false)
        {
            // Not a header looked at: the caller could have put anything in them.
            answer = NginxAuthResponder.CallerRefused;
            context.Response.Headers.Connection = "close";
        }
        else if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            answer = new NginxAuthAnswer(StatusCodes.Status400BadRequest, "Invalid request: a body was sent (nginx sends none)");
        }
        else
        {
            answer = await responder.AnswerAsync(context.Request.Method, context.Request.Headers, context.RequestAborted);
        }
        var response = context.Response;
        response.StatusCode = answer.HttpStatus;
        // nginx reads the answer into a 1 KiB buffer: headers only, no body.
        response.Headers["Auth-Status"] = answer.Status;
        if (answer.Backend is { } backend)
        {
            response.Headers["Auth-Server"] = backend.Address.ToString();
            response.Headers["Auth-Port"] = backend.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (answer.WaitSeconds is { } wait)
        {
            response.Headers["Auth-Wait"] = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (answer.SmtpErrorCode is { } code)
        {
            response.Headers["Auth-Error-Code"] = code;
        }
        response.ContentLength = 0;
    }

    [LoggerMessage(EventId = 823, Level = LogLevel.Warning,
        Message = "auth-http connection on {Listener} refused: {Caller} is not allowed to connect (MailAuth:AuthHttp:AllowedUsers)")]
    private partial void LogRefusedCaller(string listener, string caller);

    [LoggerMessage(EventId = 824, Level = LogLevel.Warning,
        Message = "auth-http connection on {Listener} refused: the kernel does not say which user opened it (closed at once, or not from this host)")]
    private partial void LogUnknownCaller(string listener);

    [LoggerMessage(EventId = 825, Level = LogLevel.Information, Message = "auth-http callers allowed: uid {Users} (TCP callers identified by {Method})")]
    private partial void LogCallers(string users, string method);

    [LoggerMessage(EventId = 820, Level = LogLevel.Information, Message = "listening auth-http on {EndPoint}")]
    private partial void LogListening(string endPoint);
}
