using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>A raw IMAP transcript client: what it sends and reads is exactly what goes over the wire.</summary>
internal sealed class ImapTestClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    private readonly TcpClient _tcp;
    private readonly string _certificatePath;
    private Stream _stream;
    private readonly List<byte> _buffer = [];

    private ImapTestClient(TcpClient tcp, Stream stream, string certificatePath)
    {
        _tcp = tcp;
        _stream = stream;
        _certificatePath = certificatePath;
    }

    public string Greeting { get; private set; } = "";

    /// <summary>Connects and reads the greeting; <paramref name="implicitTls"/> for the imaps port.</summary>
    public static async Task<ImapTestClient> ConnectAsync(RunningServer server, bool implicitTls = false, IPAddress? source = null)
    {
        var port = implicitTls ? server.ImapsPort : server.ImapPort;
        TcpClient tcp;
        if (source is null)
        {
            tcp = await server.ConnectAsync(port);
        }
        else
        {
            // The server listens on loopback only; binding the client's end to another local address
            // makes the server see a client from that (non-loopback, untrusted) address.
            tcp = new TcpClient(new IPEndPoint(source, 0));
            await tcp.ConnectAsync(IPAddress.Loopback, port);
        }
        var certificate = Path.Combine(server.Cli.DataDirectory, "tls", "certificate.pem");
        var client = new ImapTestClient(tcp, tcp.GetStream(), certificate);
        if (implicitTls)
        {
            await client.UpgradeAsync();
        }
        client.Greeting = await client.ReadLineAsync();
        return client;
    }


    /// <summary>TLS handshake that trusts exactly the server's generated certificate.</summary>
    public async Task UpgradeAsync()
    {
        using var expected = X509Certificate2.CreateFromPem(File.ReadAllText(_certificatePath));
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected.RawData));
        await tls.AuthenticateAsClientAsync("localhost");
        _stream = tls;
    }

    public async Task SendAsync(string text)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _stream.FlushAsync();
    }

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

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

    public async Task<string?> TryReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        while (true)
        {
            var end = _buffer.IndexOf((byte)'\n');
            if (end >= 0)
            {
                var line = Encoding.UTF8.GetString([.. _buffer.Take(end)]).TrimEnd('\r');
                _buffer.RemoveRange(0, end + 1);
                return line;
            }
            var chunk = new byte[8192];
            int read;
            try
            {
                read = await _stream.ReadAsync(chunk, timeout.Token);
            }
            catch (IOException)
            {
                return null;
            }
            if (read == 0)
            {
                return null;
            }
            _buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes (a literal's content).</summary>
    public async Task<byte[]> ReadBytesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        while (_buffer.Count < count)
        {
            var chunk = new byte[8192];
            var read = await _stream.ReadAsync(chunk, timeout.Token);
            if (read == 0)
            {
                throw new EndOfStreamException("the server closed the connection");
            }
            _buffer.AddRange(chunk.AsSpan(0, read).ToArray());
        }
        var bytes = _buffer.Take(count).ToArray();
        _buffer.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>True when the server has closed the connection (reads end) within the timeout.</summary>
    public async Task<bool> IsClosedAsync()
    {
        while (await TryReadLineAsync() is not null)
        {
            // Drain whatever the server said last.
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
