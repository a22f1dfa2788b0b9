using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>What the sink was handed: the envelope and the message as it was before dot-stuffing.</summary>
internal sealed record SinkMessage(string MailFrom, IReadOnlyList<string> Recipients, byte[] Data, bool OverTls);

/// <summary>
/// A second, independent SMTP server on loopback that plays the relay host: it speaks enough
/// SMTP (EHLO, STARTTLS with its own self-signed certificate, MAIL, RCPT, DATA, RSET, QUIT),
/// records what it accepts and can be told to refuse RCPT or DATA, or to hang up at once.
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly X509Certificate2 _certificate = SelfSigned();

    public SmtpSink()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string RcptReply { get; set; } = "250 2.1.5 OK";

    public string DataReply { get; set; } = "250 2.0.0 Queued";

    /// <summary>Close every connection right after accepting it, as a crashed relay would.</summary>
    public bool HangUp { get; set; }

    /// <summary>Advertise STARTTLS (the default), as most relays do.</summary>
    public bool OfferStartTls { get; set; } = true;

    public ConcurrentQueue<SinkMessage> Messages { get; } = new();

    public void Reset()
    {
        RcptReply = "250 2.1.5 OK";
        DataReply = "250 2.0.0 Queued";
        HangUp = false;
        OfferStartTls = true;
        Messages.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
        _stop.Dispose();
        _certificate.Dispose();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sink.example", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        if (HangUp)
        {
            return;
        }
        Stream stream = client.GetStream();
        var reader = new ByteLineReader(stream);
        var overTls = false;
        var mailFrom = "";
        var recipients = new List<string>();
        try
        {
            await WriteAsync(stream, "220 sink.example ESMTP test sink");
            while (await reader.ReadLineAsync() is { } raw)
            {
                var line = Encoding.UTF8.GetString(raw).TrimEnd('\r', '\n');
                var verb = line.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await WriteAsync(stream, "250-sink.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" +
                            (OfferStartTls && !overTls ? "250-STARTTLS\r\n" : "") + "250 PIPELINING");
                        break;
                    case "STARTTLS":
                        await WriteAsync(stream, "220 2.0.0 go ahead");
                        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                        await tls.AuthenticateAsServerAsync(_certificate);
                        stream = tls;
                        reader = new ByteLineReader(tls);
                        overTls = true;
                        break;
                    case "MAIL":
                        mailFrom = Between(line);
                        recipients.Clear();
                        await WriteAsync(stream, "250 2.1.0 OK");
                        break;
                    case "RCPT":
                        if (RcptReply.StartsWith('2'))
                        {
                            recipients.Add(Between(line));
                        }
                        await WriteAsync(stream, RcptReply);
                        break;
                    case "DATA":
                        await WriteAsync(stream, "354 go ahead");
                        var data = new MemoryStream();
                        while (await reader.ReadLineAsync() is { } dataLine)
                        {
                            if (dataLine.AsSpan().SequenceEqual(".\r\n"u8))
                            {
                                break;
                            }
                            // RFC 5321 §4.5.2: remove the stuffed dot.
                            data.Write(dataLine.Length > 0 && dataLine[0] == (byte)'.' ? dataLine.AsSpan(1) : dataLine);
                        }
                        if (DataReply.StartsWith('2'))
                        {
                            Messages.Enqueue(new SinkMessage(mailFrom, [.. recipients], data.ToArray(), overTls));
                        }
                        await WriteAsync(stream, DataReply);
                        break;
                    case "QUIT":
                        await WriteAsync(stream, "221 2.0.0 bye");
                        return;
                    default:
                        await WriteAsync(stream, "250 2.0.0 OK");
                        break;
                }
            }
        }
        catch (IOException)
        {
            // The client went away.
        }
    }

    private static string Between(string line) => line[(line.IndexOf('<', StringComparison.Ordinal) + 1)..line.IndexOf('>', StringComparison.Ordinal)];

    private static async Task WriteAsync(Stream stream, string reply) => await stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"));

    /// <summary>Lines with their terminator, as bytes.</summary>
    private sealed class ByteLineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<byte[]?> ReadLineAsync()
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = await stream.ReadAsync(_buffer);
                    if (_end == 0)
                    {
                        return null;
                    }
                }
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                var stop = newline < 0 ? _end : newline + 1;
                line.Write(_buffer, _start, stop - _start);
                _start = stop;
                if (newline >= 0)
                {
                    return line.ToArray();
                }
            }
        }
    }
}
