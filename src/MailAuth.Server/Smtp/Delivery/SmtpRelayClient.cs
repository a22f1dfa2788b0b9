using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Smtp.Delivery;

/// <summary>The smarthost for non-local recipients, from <c>MailAuth:Smtp:RelayHost</c> (<c>host:port</c>, <c>[v6]:port</c>).</summary>
internal sealed record RelayEndpoint(string Host, int Port)
{
    public static bool TryParse(string text, out RelayEndpoint? endpoint)
    {
        endpoint = null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }
        var host = text[..colon];
        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed)
        {
            host = host[1..^1];
        }
        // An IPv6 address must be bracketed: "::1:25" could be an address without a port.
        if (host.Length == 0 || host.Contains(':', StringComparison.Ordinal) && (!bracketed || !System.Net.IPAddress.TryParse(host, out _))
            || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }
        endpoint = new RelayEndpoint(host, port);
        return true;
    }

    public override string ToString() => $"{Host}:{Port}";
}

internal enum RelayStatus
{
    Accepted,

    /// <summary>Unreachable, timed out, or a 4xx: the client may try again later.</summary>
    TemporaryFailure,

    /// <summary>A 5xx: trying again will not help.</summary>
    PermanentFailure,
}

internal sealed record RelayResult(RelayStatus Status, string Detail);

/// <summary>
/// A small SMTP client (RFC 5321) that hands one message to the relay host: EHLO (HELO when
/// refused), STARTTLS when offered, MAIL, RCPT for each recipient, DATA with dot-stuffing, QUIT.
/// Any refused recipient fails the whole hand-over, so that the submitting client gets one clear
/// answer.
/// </summary>
internal sealed class SmtpRelayClient(RelayEndpoint endpoint, string hostName, TimeSpan timeout)
{
    private const int MaxReplyLineLength = 4096;
    private const int MaxReplyLines = 100;

    public async Task<RelayResult> SendAsync(
        string sender, IReadOnlyList<string> recipients, Stream message, SmtpBodyType body, bool smtpUtf8, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, deadline.Token);
            await using var stream = client.GetStream();
            await using var conversation = new Conversation(stream, timeout, deadline);

            var reply = await conversation.ReadReplyAsync();
            if (reply.Code != 220)
            {
                return Fail("greeting", reply);
            }
            reply = await conversation.CommandAsync($"EHLO {hostName}");
            var extensions = reply.Lines.Skip(1).Select(line => line.Split(' ')[0].ToUpperInvariant()).ToHashSet();
            if (reply.Code != 250)
            {
                reply = await conversation.CommandAsync($"HELO {hostName}");
                if (reply.Code != 250)
                {
                    return Fail("HELO", reply);
                }
                extensions.Clear();
            }
            if (extensions.Contains("STARTTLS"))
            {
                reply = await conversation.CommandAsync("STARTTLS");
                if (reply.Code == 220)
                {
                    await conversation.StartTlsAsync(endpoint.Host);
                    // RFC 3207 §4.2: everything learnt before TLS is forgotten.
                    reply = await conversation.CommandAsync($"EHLO {hostName}");
                    if (reply.Code != 250)
                    {
                        return Fail("EHLO after STARTTLS", reply);
                    }
                    extensions = reply.Lines.Skip(1).Select(line => line.Split(' ')[0].ToUpperInvariant()).ToHashSet();
                }
            }
            if (smtpUtf8 && !extensions.Contains("SMTPUTF8"))
            {
                return new RelayResult(RelayStatus.PermanentFailure, "the relay host does not support SMTPUTF8 addresses");
            }
            var mail = new StringBuilder($"MAIL FROM:<{sender}>");
            if (body == SmtpBodyType.EightBitMime && extensions.Contains("8BITMIME"))
            {
                mail.Append(" BODY=8BITMIME");
            }
            if (smtpUtf8)
            {
                mail.Append(" SMTPUTF8");
            }
            reply = await conversation.CommandAsync(mail.ToString());
            if (reply.Code != 250)
            {
                return Fail("MAIL", reply);
            }
            foreach (var recipient in recipients)
            {
                reply = await conversation.CommandAsync($"RCPT TO:<{recipient}>");
                if (reply.Code is not (250 or 251))
                {
                    return Fail($"RCPT TO:<{recipient}>", reply);
                }
            }
            reply = await conversation.CommandAsync("DATA");
            if (reply.Code != 354)
            {
                return Fail("DATA", reply);
            }
            await conversation.SendDotStuffedAsync(message);
            reply = await conversation.ReadReplyAsync();
            if (reply.Code != 250)
            {
                return Fail("end of DATA", reply);
            }
            try
            {
                await conversation.CommandAsync("QUIT");
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException)
            {
                // The message is accepted; a relay that hangs up before answering QUIT changes nothing.
            }
            return new RelayResult(RelayStatus.Accepted, reply.Text);
        }
        catch (AuthenticationException e)
        {
            return new RelayResult(RelayStatus.TemporaryFailure, $"TLS handshake with relay host {endpoint} failed: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RelayResult(RelayStatus.TemporaryFailure, $"relay host {endpoint} timed out");
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            return new RelayResult(RelayStatus.TemporaryFailure, $"relay host {endpoint} unreachable: {e.Message}");
        }
    }

    private static RelayResult Fail(string step, Reply reply) => new(
        reply.Code is >= 400 and < 500 ? RelayStatus.TemporaryFailure : RelayStatus.PermanentFailure,
        $"relay host answered {step} with {reply.Text}");

    internal sealed record Reply(int Code, IReadOnlyList<string> Lines)
    {
        public string Text => SmtpCommandParser.Printable($"{Code} {Lines[^1]}");
    }

    internal sealed class Conversation(Stream stream, TimeSpan timeout, CancellationTokenSource deadline) : IAsyncDisposable
    {
        private Stream _stream = stream;
        private PipeReader _input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        /// <summary>
        /// Opportunistic TLS (RFC 7435, as between mail servers): the relay's certificate is not
        /// verified, because a relay on a trusted network often has a self-signed one; this keeps
        /// passive listeners out, not an active attacker between MailAuth and its own relay.
        /// </summary>
        public async Task StartTlsAsync(string host)
        {
            await _input.CompleteAsync();
            var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
            deadline.CancelAfter(timeout);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions { TargetHost = host, RemoteCertificateValidationCallback = (_, _, _, _) => true },
                deadline.Token);
            _stream = tls;
            _input = PipeReader.Create(tls, new StreamPipeReaderOptions(leaveOpen: true));
        }

        public async Task<Reply> CommandAsync(string command)
        {
            await WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
            return await ReadReplyAsync();
        }

        /// <summary>A reply, multi-line (<c>250-…</c>) or not; the text of each line without its code.</summary>
        public async Task<Reply> ReadReplyAsync()
        {
            var lines = new List<string>();
            while (lines.Count < MaxReplyLines)
            {
                deadline.CancelAfter(timeout);
                var line = await LineReader.ReadLineAsync(_input, MaxReplyLineLength, deadline.Token);
                if (line.Status != LineStatus.Line)
                {
                    throw new IOException("the server closed the connection or sent an over-long line");
                }
                var text = Encoding.UTF8.GetString(line.Line);
                if (text.Length < 3 || !int.TryParse(text.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
                    || text.Length > 3 && text[3] is not (' ' or '-'))
                {
                    throw new InvalidDataException("the server sent a malformed reply");
                }
                lines.Add(text.Length > 4 ? text[4..] : "");
                if (text.Length == 3 || text[3] == ' ')
                {
                    return new Reply(code, lines);
                }
            }
            throw new InvalidDataException("the server sent too long a reply");
        }

        /// <summary>RFC 5321 §4.5.2: a "." at the start of a line is doubled; then CRLF "." CRLF.</summary>
        public async Task SendDotStuffedAsync(Stream message)
        {
            var read = new byte[64 * 1024];
            var write = new byte[2 * read.Length];
            var atLineStart = true;
            var endsWithCrLf = true;
            byte previous = 0;
            int count;
            while ((count = await message.ReadAsync(read, deadline.Token)) > 0)
            {
                var length = 0;
                for (var i = 0; i < count; i++)
                {
                    var b = read[i];
                    if (atLineStart && b == (byte)'.')
                    {
                        write[length++] = (byte)'.';
                    }
                    write[length++] = b;
                    atLineStart = b == (byte)'\n';
                    endsWithCrLf = b == (byte)'\n' && previous == (byte)'\r';
                    previous = b;
                }
                await WriteAsync(write.AsMemory(0, length));
            }
            await WriteAsync(endsWithCrLf ? ".\r\n"u8.ToArray() : "\r\n.\r\n"u8.ToArray());
        }

        public async ValueTask DisposeAsync()
        {
            await _input.CompleteAsync();
            await _stream.DisposeAsync();
        }

        private async Task WriteAsync(ReadOnlyMemory<byte> bytes)
        {
            deadline.CancelAfter(timeout);
            await _stream.WriteAsync(bytes, deadline.Token);
        }
    }
}
