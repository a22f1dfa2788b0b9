using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// A raw SMTP conversation over TCP (and TLS), byte for byte, for transcript tests: what the
/// client sends and exactly what the server answers.
/// </summary>
internal sealed class SmtpTranscript : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    private readonly TcpClient _client;
    private readonly string _certificateFile;
    private readonly TestLineReader _lines = new();
    private Stream _stream;

    private SmtpTranscript(TcpClient client, string certificateFile)
    {
        _client = client;
        _certificateFile = certificateFile;
        _stream = client.GetStream();
    }

    /// <summary>Connects and reads the greeting, after the TLS handshake when <paramref name="implicitTls"/>.</summary>
    public static async Task<SmtpTranscript> ConnectAsync(IPAddress address, int port, bool implicitTls, string certificateFile)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address, port);
        var transcript = new SmtpTranscript(client, certificateFile);
        if (implicitTls)
        {
            await transcript.HandshakeAsync();
        }
        transcript.Greeting = await transcript.ReadReplyAsync();
        return transcript;
    }

    public static Task<SmtpTranscript> ConnectAsync(RunningServer server, bool implicitTls) =>
        ConnectAsync(IPAddress.Loopback, implicitTls ? server.SubmissionsPort : server.SubmissionPort, implicitTls, SmtpTestServer.CertificateFile(server));

    public string Greeting { get; private set; } = "";

    public bool IsSecure => _stream is SslStream;

    public string TlsDescription => _stream is SslStream tls ? $"{tls.SslProtocol} {tls.NegotiatedCipherSuite}" : "";

    /// <summary>Sends <paramref name="raw"/> as it is (several pipelined commands, a message body…).</summary>
    public async Task SendAsync(string raw) => await SendAsync(Encoding.UTF8.GetBytes(raw));

    public async Task SendAsync(byte[] raw)
    {
        await _stream.WriteAsync(raw);
        await _stream.FlushAsync();
    }

    /// <summary>Sends one command line and returns the whole reply (lines joined by "\n").</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>One reply, all its lines joined by "\n" (e.g. the EHLO list).</summary>
    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException("connection closed; got so far: " + string.Join("\n", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] == ' ')
            {
                return string.Join("\n", lines);
            }
        }
    }

    /// <summary>EHLO then STARTTLS and the handshake (the certificate pinned to the server's own).</summary>
    public async Task StartTlsAsync()
    {
        var reply = await CommandAsync("STARTTLS");
        if (!reply.StartsWith("220 ", StringComparison.Ordinal))
        {
            throw new IOException("STARTTLS refused: " + reply);
        }
        await HandshakeAsync();
    }

    /// <summary>EHLO, and AUTH PLAIN with an initial response; returns the AUTH reply.</summary>
    public async Task<string> LoginAsync(string user, string password)
    {
        await CommandAsync("EHLO client.example");
        return await CommandAsync("AUTH PLAIN " + Base64("\0" + user + "\0" + password));
    }

    /// <summary>True when the server closed the connection (nothing more to read).</summary>
    public async Task<bool> IsClosedAsync()
    {
        try
        {
            return await ReadLineAsync() is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private async Task HandshakeAsync()
    {
        if (_lines.HasBuffered)
        {
            throw new IOException("the server sent data before the TLS handshake");
        }
        var expected = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_certificateFile));
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // Pinned: the test trusts exactly the certificate the server generated.
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == expected.GetCertHashString(),
        });
        _stream = tls;
    }

    private Task<string?> ReadLineAsync() => _lines.ReadLineAsync(_stream, ReadTimeout);
}
