using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using MailAuth.Core.Authentication;
using MailAuth.Server.Hosting;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sasl;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.SaslService;

internal enum DovecotAuthState
{
    /// <summary>The client has not sent VERSION yet.</summary>
    AwaitingVersion,

    /// <summary>VERSION received; the client must identify itself with CPID before any AUTH.</summary>
    AwaitingCpid,

    /// <summary>Handshake done: AUTH and CONT are accepted.</summary>
    Ready,
}

/// <summary>A line to send, or the reason a request is refused (sent as <c>FAIL reason=</c> and logged).</summary>
internal readonly record struct DovecotAuthAnswer(string? Line, string? RefusedBecause)
{
    public static DovecotAuthAnswer Send(string line) => new(line, null);

    public static DovecotAuthAnswer Refuse(string reason) => new(null, reason);
}

/// <summary>
/// One client connection (a Postfix smtpd process, usually) speaking the Dovecot auth protocol,
/// server side. Requests are handled in the order they arrive and each answer names its request
/// id, so a client may keep several requests in flight (LOGIN waiting for its CONT, say).
/// </summary>
internal sealed partial class DovecotAuthSession(
    Stream stream,
    MailAuthenticator authenticator,
    SaslServiceOptions options,
    uint connectionId,
    ILogger logger)
{
    /// <summary>The request waiting for the client's CONT, with what its AUTH line told us.</summary>
    private sealed record PendingRequest(SaslMechanism Mechanism, ClientContext Client);

    private readonly Dictionary<uint, PendingRequest> _pending = [];
    private readonly SaslLogin _login = new(authenticator);

    public DovecotAuthState State { get; private set; } = DovecotAuthState.AwaitingVersion;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshakeTimeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            await WriteAsync(Handshake(), cancellationToken);
            while (true)
            {
                var read = await LineReader.ReadLineAsync(input, options.MaxLineLength, handshakeTimeout.Token);
                if (read.Status == LineStatus.TooLong)
                {
                    // The line was dropped unread, so its request id is unknown: nothing to answer.
                    LogClosed(connectionId, "a line longer than MailAuth:SaslService:MaxLineLength");
                    return;
                }
                if (read.Status != LineStatus.Line)
                {
                    return;
                }
                var parsed = DovecotAuthParser.Parse(read.Line);
                if (parsed.FailId is { } failId)
                {
                    _pending.Remove(failId);
                    await FailAsync(failId, parsed.Error!, cancellationToken);
                    continue;
                }
                if (parsed.Line is not { } line)
                {
                    LogClosed(connectionId, parsed.Error!);
                    return;
                }
                if (!await HandleAsync(line, cancellationToken))
                {
                    return;
                }
                if (State == DovecotAuthState.Ready)
                {
                    // Postfix keeps its connection for the life of an smtpd process: no idle limit once
                    // the client has identified itself (the listener is local and bounded in number).
                    handshakeTimeout.CancelAfter(Timeout.InfiniteTimeSpan);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogClosed(connectionId, "no complete handshake in time");
        }
        catch (IOException)
        {
            // The client went away.
        }
        finally
        {
            await input.CompleteAsync();
        }
    }

    private string Handshake()
    {
        var text = new StringBuilder();
        text.Append("VERSION\t1\t2\n");
        foreach (var name in SaslMechanism.Names)
        {
            // Both mechanisms send the password in clear: "plaintext" tells the client to keep them
            // to secured (TLS) sessions, as Dovecot marks PLAIN and LOGIN.
            text.Append(CultureInfo.InvariantCulture, $"MECH\t{name}\tplaintext\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"SPID\t{Environment.ProcessId}\n");
        text.Append(CultureInfo.InvariantCulture, $"CUID\t{connectionId}\n");
        text.Append(CultureInfo.InvariantCulture, $"COOKIE\t{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))}\n");
        text.Append("DONE\n");
        return text.ToString();
    }

    /// <summary>False when the connection must close.</summary>
    private async ValueTask<bool> HandleAsync(DovecotAuthLine line, CancellationToken cancellationToken)
    {
        switch (State, line.Kind)
        {
            case (DovecotAuthState.AwaitingVersion, DovecotAuthCommandKind.Version):
                if (line.MajorVersion != 1)
                {
                    LogClosed(connectionId, "an unsupported protocol major version");
                    return false;
                }
                State = DovecotAuthState.AwaitingCpid;
                return true;
            case (DovecotAuthState.AwaitingCpid, DovecotAuthCommandKind.Cpid):
                State = DovecotAuthState.Ready;
                return true;
            case (DovecotAuthState.Ready, DovecotAuthCommandKind.Auth):
                await AuthAsync(line, cancellationToken);
                return true;
            case (DovecotAuthState.Ready, DovecotAuthCommandKind.Cont):
                await ContinueAsync(line, cancellationToken);
                return true;
            case (DovecotAuthState.AwaitingVersion or DovecotAuthState.AwaitingCpid, DovecotAuthCommandKind.Auth or DovecotAuthCommandKind.Cont):
                await FailAsync(line.Id, "handshake not finished (VERSION and CPID first)", cancellationToken);
                return true;
            default:
                LogClosed(connectionId, $"{line.Kind} out of order");
                return false;
        }
    }

    private async ValueTask AuthAsync(DovecotAuthLine line, CancellationToken cancellationToken)
    {
        if (_pending.Remove(line.Id))
        {
            // Two requests under one id: the client lost track, so neither answer could be matched.
            await FailAsync(line.Id, "request id already in use", cancellationToken);
            return;
        }
        if (_pending.Count >= options.MaxPendingRequests)
        {
            await FailAsync(line.Id, "too many requests in progress on this connection", cancellationToken);
            return;
        }
        var mechanism = SaslMechanism.Create(line.Mechanism);
        if (mechanism is null)
        {
            await FailAsync(line.Id, "unsupported mechanism", cancellationToken);
            return;
        }
        var secured = line.Has("secured");
        if (!secured && !options.AllowPlaintextWithoutTls)
        {
            await WriteAsync($"FAIL\t{line.Id}\treason=Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\n", cancellationToken);
            return;
        }
        // rip is the SMTP client's address as the MTA saw it: the throttle counts failures per client.
        // Without a usable rip every such request shares one address (255.255.255.255), so they are
        // throttled together rather than escaping the throttle.
        var remote = IPAddress.TryParse(line.Get("rip") ?? "", out var rip) ? rip : IPAddress.None;
        var client = new ClientContext(LoginChannel.SaslService, mechanism.Name, remote, secured)
        {
            TrustedNetworksApply = options.TrustedNetworksApply,
        };

        byte[]? initial = null;
        if (line.HasResponse)
        {
            var reply = SaslConversation.Decode(Encoding.ASCII.GetBytes(line.Response));
            if (reply.Kind != SaslReplyKind.Response)
            {
                // "*" is refused here like bad base64: the request has only just begun.
                await AnswerAsync(line.Id, new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64), cancellationToken);
                return;
            }
            initial = reply.Data;
        }
        await StepAsync(line.Id, new PendingRequest(mechanism, client), initial, cancellationToken);
    }

    private async ValueTask ContinueAsync(DovecotAuthLine line, CancellationToken cancellationToken)
    {
        if (!_pending.Remove(line.Id, out var request))
        {
            await FailAsync(line.Id, "no request in progress with this id", cancellationToken);
            return;
        }
        var reply = SaslConversation.Decode(Encoding.ASCII.GetBytes(line.Response));
        switch (reply.Kind)
        {
            case SaslReplyKind.Response:
                await StepAsync(line.Id, request, reply.Data, cancellationToken);
                return;
            case SaslReplyKind.Cancelled:
                await AnswerAsync(line.Id, new SaslLoginOutcome.Cancelled(), cancellationToken);
                return;
            default:
                await AnswerAsync(line.Id, new SaslLoginOutcome.Malformed(SaslMalformation.ResponseNotBase64), cancellationToken);
                return;
        }
    }

    private async ValueTask StepAsync(uint id, PendingRequest request, byte[]? response, CancellationToken cancellationToken)
    {
        var step = await _login.StepAsync(request.Mechanism, response, request.Client, cancellationToken);
        if (step.Challenge is { } challenge)
        {
            _pending[id] = request;
            await WriteAsync($"CONT\t{id}\t{SaslConversation.Encode(challenge)}\n", cancellationToken);
            return;
        }
        await AnswerAsync(id, step.Outcome!, cancellationToken);
    }

    private async ValueTask AnswerAsync(uint id, SaslLoginOutcome outcome, CancellationToken cancellationToken)
    {
        var answer = Answer(id, outcome);
        if (answer.RefusedBecause is { } reason)
        {
            await FailAsync(id, reason, cancellationToken);
            return;
        }
        await WriteAsync(answer.Line!, cancellationToken);
    }

    /// <summary>The answer table: a line to send, or a refusal of the request that is also logged.</summary>
    internal static DovecotAuthAnswer Answer(uint id, SaslLoginOutcome outcome) => outcome switch
    {
        SaslLoginOutcome.Succeeded succeeded => DovecotAuthAnswer.Send($"OK\t{id}\tuser={Escape(succeeded.Address.ToString())}\n"),
        SaslLoginOutcome.Busy => DovecotAuthAnswer.Send($"FAIL\t{id}\ttemp\n"),
        // Never user=, never why: unknown address, wrong password, disabled and throttled look the same.
        SaslLoginOutcome.Failed => DovecotAuthAnswer.Send($"FAIL\t{id}\treason=Authentication failed\n"),
        SaslLoginOutcome.Cancelled => DovecotAuthAnswer.Refuse("cancelled by the client"),
        SaslLoginOutcome.Malformed { Malformation.Reason: SaslMalformedReason.InitialResponseNotBase64 } => DovecotAuthAnswer.Refuse("invalid base64 in resp"),
        SaslLoginOutcome.Malformed { Malformation.Reason: SaslMalformedReason.ResponseNotBase64 } => DovecotAuthAnswer.Refuse("invalid base64 in CONT"),
        SaslLoginOutcome.Malformed malformed => DovecotAuthAnswer.Refuse(malformed.Malformation.Description),
        // Each request is one line, read whole before it is handled: no exchange ends mid-line here.
        _ => throw new UnreachableException($"no Dovecot auth answer for {outcome}"),
    };

    /// <summary>
    /// A protocol-level refusal. The reason names what was wrong with the request (it is about the
    /// client's syntax, never about the account), and is also logged.
    /// </summary>
    private async ValueTask FailAsync(uint id, string reason, CancellationToken cancellationToken)
    {
        LogRefused(connectionId, id, reason);
        await WriteAsync($"FAIL\t{id}\treason={Escape(reason)}\n", cancellationToken);
    }

    /// <summary>Dovecot's tab escaping: values may not carry TAB or LF.</summary>
    private static string Escape(string value) =>
        value.Replace("\u0001", "\u00011", StringComparison.Ordinal)
             .Replace("\t", "\u0001t", StringComparison.Ordinal)
             .Replace("\n", "\u0001n", StringComparison.Ordinal)
             .Replace("\r", "\u0001r", StringComparison.Ordinal);

    private async ValueTask WriteAsync(string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "sasl-service connection {ConnectionId} closed: {Reason}")]
    private partial void LogClosed(uint connectionId, string reason);

    [LoggerMessage(EventId = 802, Level = LogLevel.Information, Message = "sasl-service connection {ConnectionId} request {RequestId} refused: {Reason}")]
    private partial void LogRefused(uint connectionId, uint requestId, string reason);
}
