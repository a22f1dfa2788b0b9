using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailAuth.Server.Tls.Acme;

namespace MailAuth.Server.Tests.Tls;

/// <summary>RFC 8737: the challenge certificate's contents, and ALPN read from a real ClientHello sent by .NET's SslStream.</summary>
[TestFixture]
public sealed class AcmeTlsAlpnTests
{
    [Test]
    public void TheChallengeCertificateNamesTheHostAndHoldsTheKeyAuthorizationsHashInACriticalAcmeIdentifier()
    {
        var context = AcmeTlsAlpnChallenges.Create("mail.family.example", "token.thumbprint");
        var certificate = context.TargetCertificate;
        Assert.That(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames(),
            Is.EqualTo(new[] { "mail.family.example" }));
        var identifier = certificate.Extensions["1.3.6.1.5.5.7.1.31"]!;
        Assert.That(identifier.Critical, Is.True);
        Assert.That(identifier.RawData, Is.EqualTo(new byte[] { 0x04, 0x20 }.Concat(SHA256.HashData(Encoding.ASCII.GetBytes("token.thumbprint")))));
    }

    [TestCase(new[] { "acme-tls/1" }, true)]
    [TestCase(new[] { "h2", "http/1.1" }, false)]
    [TestCase(new string[0], false)]
    public async Task AClientHelloOffersAcmeTls1OnlyWhenTheClientAsksForIt(string[] protocols, bool offered)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        await using var tls = new SslStream(client.GetStream());
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "mail.family.example",
            ApplicationProtocols = [.. protocols.Select(p => new SslApplicationProtocol(p))],
        });

        // Read until the whole ClientHello is here, as the listener does, one TCP read at a time.
        var received = new List<byte>();
        var buffer = new byte[4096];
        var result = TlsClientHello.Alpn.NeedMore;
        while (result == TlsClientHello.Alpn.NeedMore)
        {
            var count = await server.GetStream().ReadAsync(buffer);
            Assert.That(count, Is.GreaterThan(0));
            received.AddRange(buffer.AsSpan(0, count));
            Assert.That(TlsClientHello.Offers(new ReadOnlySequence<byte>([.. received.Take(received.Count - 1)]), "acme-tls/1"u8),
                Is.EqualTo(TlsClientHello.Alpn.NeedMore).Or.EqualTo(TlsClientHello.Alpn.NotOffered), "a ClientHello cut short is never taken as offered");
            result = TlsClientHello.Offers(new ReadOnlySequence<byte>([.. received]), "acme-tls/1"u8);
        }
        Assert.That(result, Is.EqualTo(offered ? TlsClientHello.Alpn.Offered : TlsClientHello.Alpn.NotOffered));
        server.Close();
        Assert.That(async () => await handshake, Throws.Exception);
    }
}
