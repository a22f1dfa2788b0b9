using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tests.Tls;

/// <summary>
/// An IMAPS connection through .NET's SslStream that keeps the certificate the server served
/// (<see cref="ServedCertificate"/>), accepted by <paramref name="accept"/>.
/// </summary>
internal sealed class TlsImapConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _tls;
    private StreamReader? _reader;

    private TlsImapConnection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        _tls = tls;
    }

    public X509Certificate2 ServedCertificate { get; private set; } = null!;

    public string Greeting { get; private set; } = "";

    public static async Task<TlsImapConnection> OpenAsync(int port, string serverName, Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> accept)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? served = null;
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, chain, errors) =>
        {
            served = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            return accept(served, chain, errors);
        });
        var connection = new TlsImapConnection(tcp, tls);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName }, timeout.Token);
            connection.ServedCertificate = served!;
            connection._reader = new StreamReader(tls, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            connection.Greeting = await connection.ReadLineAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<List<string>> CommandAsync(string tag, string command)
    {
        await _tls.WriteAsync(Encoding.UTF8.GetBytes($"{tag} {command}\r\n"));
        await _tls.FlushAsync();
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

    private async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _reader!.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the server closed the connection");
    }

    public async ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        await _tls.DisposeAsync();
        _tcp.Dispose();
    }
}
