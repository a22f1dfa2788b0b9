using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailAuth.Core.Addresses;
using MailAuth.Core.Authentication;
using MailAuth.Server.Protocol;
using MailAuth.Server.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Hosting;

/// <summary>
/// A UNIX socket in the data directory (mode 0600: only the server's user) through which the CLI
/// reaches state that lives in the server's memory: <c>throttle list</c>, <c>throttle clear</c> and
/// <c>mailbox kick</c>.
/// One request line per connection, one JSON answer.
/// </summary>
internal sealed partial class ControlSocketService(
    MailAuthOptions options, FailureThrottle throttle, MailboxSessions sessions, ILogger<ControlSocketService> logger,
    MailAuthenticator authenticator)
    : BackgroundService
{
    public const string FileName = "control.sock";

    /// <summary>The longest request: a verb and an address or IP.</summary>
    private const int MaxRequestBytes = 512;

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    private AcceptLoop? _listener;

    /// <summary>Binds before the host reports started, so that a failure fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var path = PathIn(options.DataDirectory);
        if (Encoding.UTF8.GetByteCount(path) > MailAuthOptions.MaxUnixSocketPathBytes)
        {
            throw new IOException(
                $"the control socket {path} is longer than the {MailAuthOptions.MaxUnixSocketPathBytes} bytes a UNIX socket path can have; use a shorter data directory");
        }
        _listener = new AcceptLoop(UnixSocketFile.Listen(path, UnixSocketFile.OwnerOnly, backlog: 16), path);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>One request at a time: each is a short read of the server's memory.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _listener!.RunAsync(
            async (client, stopping) =>
            {
                using (client)
                {
                    await AnswerAsync(client, stopping);
                }
            },
            LogAcceptFailed,
            Timeout.InfiniteTimeSpan,
            stoppingToken,
            oneAtATime: true);

    private async Task AnswerAsync(Socket client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var buffer = new byte[MaxRequestBytes];
            var length = 0;
            while (length < buffer.Length)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                if (read == 0 || Array.IndexOf(buffer, (byte)'\n', length, read) >= 0)
                {
                    length += read;
                    break;
                }
                length += read;
            }
            var request = Encoding.UTF8.GetString(buffer, 0, length).Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            object answer = request switch
            {
                ["throttle-list"] => await ListAsync(timeout.Token),
                ["throttle-clear", var key] => await ClearAsync(key, timeout.Token),
                ["kick", var address] => Kick(address),
                _ => new { error = "unknown request" },
            };
            if (request is ["throttle-clear", var cleared])
            {
                LogCleared(cleared);
            }
            await client.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(answer) + "\n"), timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            // A client that went away or stalled: nothing to answer.
        }
    }

    /// <summary>This node's counts, then those every node shares (several nodes on PostgreSQL), marked shared.</summary>
    private async Task<IReadOnlyList<ThrottleEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var own = throttle.Snapshot();
        try
        {
            return [.. own, .. await authenticator.SharedFailuresAsync(cancellationToken)];
        }
        catch (System.Data.Common.DbException e)
        {
            LogSharedUnavailable(e.Message);
            return own;
        }
    }

    /// <summary>This node's counts, and those every node shares (several nodes on PostgreSQL).</summary>
    private async Task<object> ClearAsync(string key, CancellationToken cancellationToken)
    {
        var cleared = throttle.Clear(key);
        try
        {
            return new { cleared = cleared + await authenticator.ClearSharedFailuresAsync(key, cancellationToken) };
        }
        catch (System.Data.Common.DbException e)
        {
            return new { error = $"cleared {cleared} on this node, but the store did not answer: {e.Message}" };
        }
    }

    private object Kick(string text)
    {
        if (!AddressNormalizer.TryNormalize(text, out var address, out var error))
        {
            return new { error = $"invalid address '{AddressNormalizer.Printable(text)}': {error}" };
        }
        var ended = sessions.EndAll(address, SessionEndReason.Kicked);
        LogKicked(ended, address.ToString());
        return new { ended };
    }

    [LoggerMessage(EventId = 133, Level = LogLevel.Information, Message = "sessions ended={Count} by the admin (kick) address={Address}")]
    private partial void LogKicked(int count, string address);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "control socket accept failed: {Error}")]
    private partial void LogAcceptFailed(SocketError error);

    [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "throttle list: the shared counts could not be read: {Error}")]
    private partial void LogSharedUnavailable(string error);

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "throttle cleared for {Key} by the admin")]
    private partial void LogCleared(string key);
}
