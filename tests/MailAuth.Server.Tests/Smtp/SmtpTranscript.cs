using System.Net;
using System.Text;

namespace MailAuth.Server.Tests.Smtp;

/// <summary>
/// A raw SMTP conversation over <see cref="LineConnection"/> (and TLS), byte for byte, for
/// transcript tests: what the client sends and exactly what the server answers.
/// </summary>
internal sealed class SmtpTranscript : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    private readonly LineConnection _connection;
    private readonly string _certificateFile;

    private SmtpTranscript(LineConnection connection, string certificateFile)
    {
        _connection = connection;
        _certificateFile = certificateFile;
    }

    /// <summary>Connects and reads the greeting, after the TLS handshake when <paramref name="implicitTls"/>.</summary>
    public static async Task<SmtpTranscript> ConnectAsync(IPAddress address, int port, bool implicitTls, string certificateFile)
    {
        var transcript = new SmtpTranscript(await LineConnection.OpenAsync(address, port), certificateFile);
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

    public bool IsSecure => _connection.IsSecure;

    public string TlsDescription => _connection.TlsDescription;

    /// <summary>Sends <paramref name="raw"/> as it is (several pipelined commands, a message body…).</summary>
    public Task SendAsync(string raw) => _connection.SendAsync(raw);

    public Task SendAsync(byte[] raw) => _connection.SendAsync(raw);

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
            var line = await _connection.ReadLineAsync(ReadTimeout) ?? throw new IOException("connection closed; got so far: " + string.Join("\n", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] == ' ')
            {
                return string.Join("\n", lines);
            }
        }
    }

    /// <summary>STARTTLS and the handshake (the certificate pinned to the server's own).</summary>
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
    public async Task<bool> IsClosedAsync() => await _connection.ReadLineAsync(ReadTimeout) is null;

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    // Pinned: the test trusts exactly the certificate the server generated.
    private Task HandshakeAsync() => _connection.StartTlsAsync(LineConnection.Pinned(_certificateFile));
}
