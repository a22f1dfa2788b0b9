using System.Net.Security;
using System.Security.Authentication;
using MailAuth.Server.Tls.Acme;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MailAuth.Server.Web;

/// <summary>
/// TLS-ALPN-01 (RFC 8737) on the web listener's HTTPS port: while a challenge is pending, a
/// connection's ClientHello is read (not consumed) before the handshake to see whether it offers
/// <c>acme-tls/1</c>; such a handshake for a pending name gets the challenge certificate, every
/// other one the served certificate. With no challenge pending, nothing is read ahead.
/// </summary>
internal static class AcmeTlsAlpnListener
{
    private const string OffersAcmeTls = "mailauth.acme-tls/1";

    /// <summary>A ClientHello is at most one 16 KiB record: more bytes than that before it ends are no ClientHello to look at.</summary>
    private const int MaxClientHelloBytes = 16384 + 5;

    /// <summary>Notes, before the TLS middleware runs, whether the ClientHello offers <c>acme-tls/1</c>.</summary>
    public static IConnectionBuilder UseAcmeTlsAlpnDetection(this ListenOptions listen, AcmeTlsAlpnChallenges challenges, TimeSpan handshakeTimeout) =>
        listen.Use(next => async connection =>
        {
            if (challenges.Any)
            {
                using var timeout = new CancellationTokenSource(handshakeTimeout);
                var input = connection.Transport.Input;
                try
                {
                    while (true)
                    {
                        var read = await input.ReadAsync(timeout.Token);
                        var alpn = TlsClientHello.Offers(read.Buffer, "acme-tls/1"u8);
                        if (alpn != TlsClientHello.Alpn.NeedMore || read.IsCompleted || read.Buffer.Length >= MaxClientHelloBytes)
                        {
                            // Nothing consumed: the TLS middleware reads the same bytes.
                            input.AdvanceTo(read.Buffer.Start);
                            if (alpn == TlsClientHello.Alpn.Offered)
                            {
                                connection.Items[OffersAcmeTls] = true;
                            }
                            break;
                        }
                        input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                    }
                }
                catch (OperationCanceledException)
                {
                    return; // no ClientHello within the handshake time: as the TLS middleware would, close
                }
            }
            await next(connection);
        });

    /// <summary>The challenge certificate's TLS options when this handshake is a TLS-ALPN-01 validation, else null.</summary>
    public static SslServerAuthenticationOptions? ChallengeOptions(AcmeTlsAlpnChallenges challenges, ConnectionContext connection, string? serverName) =>
        connection.Items.ContainsKey(OffersAcmeTls) && challenges.TryGet(serverName, out var certificate)
            ? new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                // RFC 8737 §3: the handshake must negotiate acme-tls/1 and nothing else.
                ApplicationProtocols = [AcmeTlsAlpnChallenges.Protocol],
            }
            : null;
}
