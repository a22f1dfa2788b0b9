using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace MailAuth.Server.Tests.Imap;

/// <summary>A raw IMAP transcript client over <see cref="LineConnection"/>: what it sends and reads is exactly what goes over the wire.</summary>
internal sealed class ImapTestClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    private readonly LineConnection _connection;
    private readonly string _certificatePath;

    private ImapTestClient(LineConnection connection, string certificatePath)
    {
        _connection = connection;
        _certificatePath = certificatePath;
    }

    public string Greeting { get; private set; } = "";

    /// <summary>The certificate the server presented, after a TLS handshake.</summary>
    public X509Certificate2 ServedCertificate => _connection.ServedCertificate ?? throw new InvalidOperationException("no TLS handshake yet");

    /// <summary>Connects and reads the greeting; <paramref name="implicitTls"/> for the imaps port.</summary>
    public static async Task<ImapTestClient> ConnectAsync(RunningServer server, bool implicitTls = false, IPAddress? source = null)
    {
        // The server listens on loopback only; binding the client's end to another local address
        // makes the server see a client from that (non-loopback, untrusted) address.
        var connection = await LineConnection.OpenAsync(IPAddress.Loopback, implicitTls ? server.ImapsPort : server.ImapPort, source);
        var client = new ImapTestClient(connection, Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem"));
        if (implicitTls)
        {
            await client.UpgradeAsync();
        }
        client.Greeting = await client.ReadLineAsync();
        return client;
    }

    /// <summary>Connects to an implicit TLS port with <paramref name="serverName"/> as SNI; <paramref name="accept"/> judges the certificate served.</summary>
    public static async Task<ImapTestClient> ConnectTlsAsync(int port, string serverName, Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> accept)
    {
        var connection = await LineConnection.OpenAsync(IPAddress.Loopback, port);
        var client = new ImapTestClient(connection, "");
        try
        {
            await connection.StartTlsAsync((_, certificate, chain, errors) =>
                certificate is not null && accept(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain, errors), serverName);
            client.Greeting = await client.ReadLineAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>TLS handshake that trusts exactly the server's generated certificate.</summary>
    public Task UpgradeAsync() => _connection.StartTlsAsync(LineConnection.Pinned(_certificatePath));

    public Task SendAsync(string text) => _connection.SendAsync(text);

    public Task SendAsync(byte[] bytes) => _connection.SendAsync(bytes);

    /// <summary>Sends "tag command" and returns every line up to and including the tagged one.</summary>
    public async Task<List<string>> CommandAsync(string tag, string command)
    {
        await SendAsync($"{tag} {command}\r\n");
        return await ReadUntilTaggedAsync(tag);
    }

    public async Task<List<string>> ReadUntilTaggedAsync(string tag)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            lines.Add(line);
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                return lines;
            }
        }
    }

    /// <summary>One line without CRLF; throws when the server closed the connection first.</summary>
    public async Task<string> ReadLineAsync() =>
        await TryReadLineAsync() ?? throw new EndOfStreamException("the server closed the connection");

    /// <summary>One line without CRLF, or null when the server closed the connection.</summary>
    public Task<string?> TryReadLineAsync() => _connection.ReadLineAsync(ReadTimeout);

    /// <summary>Exactly <paramref name="count"/> bytes (a literal's content).</summary>
    public Task<byte[]> ReadBytesAsync(int count) => _connection.ReadBytesAsync(count, ReadTimeout);

    /// <summary>True when the server has closed the connection (reads end) within the timeout.</summary>
    public async Task<bool> IsClosedAsync()
    {
        while (await TryReadLineAsync() is not null)
        {
            // Drain whatever the server said last.
        }
        return true;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
