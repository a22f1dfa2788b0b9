using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MailAuth.Server.Tls.Acme;

/// <summary>
/// The TLS-ALPN-01 challenges being validated now (RFC 8737): host name → the self-signed challenge
/// certificate served to a handshake for that name offering ALPN <c>acme-tls/1</c> (and to no other).
/// </summary>
internal sealed class AcmeTlsAlpnChallenges
{
    /// <summary>RFC 8737 §6.2: the ALPN protocol of validation handshakes.</summary>
    public static readonly SslApplicationProtocol Protocol = new("acme-tls/1");

    /// <summary>RFC 8737 §6.1: id-pe-acmeIdentifier.</summary>
    private const string AcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

    private readonly ConcurrentDictionary<string, SslStreamCertificateContext> _pending = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether any challenge is pending: only then are ClientHellos looked at for <c>acme-tls/1</c>.</summary>
    public bool Any => !_pending.IsEmpty;

    public void Add(string hostName, string keyAuthorization) => _pending[hostName] = Create(hostName, keyAuthorization);

    public void Remove(string hostName) => _pending.TryRemove(hostName, out _);

    public bool TryGet(string? hostName, out SslStreamCertificateContext certificate)
    {
        certificate = null!;
        return hostName is not null && _pending.TryGetValue(hostName, out certificate!);
    }

    /// <summary>
    /// RFC 8737 §3: self-signed, the one name as its only dNSName, and the critical acmeIdentifier
    /// extension holding the SHA-256 of the key authorization as a DER OCTET STRING.
    /// </summary>
    internal static SslStreamCertificateContext Create(string hostName, string keyAuthorization)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + hostName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        byte[] value = [0x04, 0x20, .. SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization))];
        request.CertificateExtensions.Add(new X509Extension(new Oid(AcmeIdentifierOid), value, critical: true));
        var now = DateTimeOffset.UtcNow;
#pragma warning disable CA2000 // held by the context for as long as the challenge is pending
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
#pragma warning restore CA2000
        return SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
    }
}

/// <summary>What a TLS ClientHello (RFC 8446 §4.1.2) offers by ALPN (RFC 7301 §3.1), read from the connection's first bytes.</summary>
internal static class TlsClientHello
{
    public enum Alpn
    {
        /// <summary>The ClientHello is not all here yet.</summary>
        NeedMore,
        Offered,
        NotOffered,
    }

    private const int AlpnExtension = 16;

    /// <summary>Whether the ClientHello in <paramref name="bytes"/> offers <paramref name="protocol"/>; anything not a ClientHello in one record offers nothing.</summary>
    public static Alpn Offers(ReadOnlySequence<byte> bytes, ReadOnlySpan<byte> protocol)
    {
        if (bytes.Length < 5)
        {
            return Alpn.NeedMore;
        }
        Span<byte> header = stackalloc byte[5];
        bytes.Slice(0, 5).CopyTo(header);
        var recordLength = (header[3] << 8) | header[4];
        if (header[0] != 0x16 || recordLength > 16384)
        {
            return Alpn.NotOffered;
        }
        if (bytes.Length < 5 + recordLength)
        {
            return Alpn.NeedMore;
        }
        var record = bytes.Slice(5, recordLength).ToArray();
        return Find(record, protocol) ? Alpn.Offered : Alpn.NotOffered;
    }

    private static bool Find(ReadOnlySpan<byte> record, ReadOnlySpan<byte> protocol)
    {
        // Handshake: type 1 (client_hello), 3-byte length; then version, random, session id,
        // cipher suites, compression methods, extensions. Any length past the record: not offered.
        if (record.Length < 4 || record[0] != 1)
        {
            return false;
        }
        var at = 4 + 2 + 32;
        if (!Skip(record, ref at, 1) || !Skip(record, ref at, 2) || !Skip(record, ref at, 1) || at + 2 > record.Length)
        {
            return false;
        }
        var end = Math.Min(record.Length, at + 2 + ((record[at] << 8) | record[at + 1]));
        at += 2;
        while (at + 4 <= end)
        {
            var type = (record[at] << 8) | record[at + 1];
            var length = (record[at + 2] << 8) | record[at + 3];
            at += 4;
            if (at + length > end)
            {
                return false;
            }
            if (type == AlpnExtension)
            {
                var list = record.Slice(at, length);
                for (var i = 2; i < list.Length;)
                {
                    var nameLength = list[i];
                    if (i + 1 + nameLength > list.Length)
                    {
                        return false;
                    }
                    if (list.Slice(i + 1, nameLength).SequenceEqual(protocol))
                    {
                        return true;
                    }
                    i += 1 + nameLength;
                }
                return false;
            }
            at += length;
        }
        return false;
    }

    /// <summary>Skips a field whose length takes <paramref name="lengthBytes"/> bytes.</summary>
    private static bool Skip(ReadOnlySpan<byte> record, ref int at, int lengthBytes)
    {
        if (at + lengthBytes > record.Length)
        {
            return false;
        }
        var length = lengthBytes == 1 ? record[at] : (record[at] << 8) | record[at + 1];
        at += lengthBytes + length;
        return at <= record.Length;
    }
}

/// <summary>Answers a challenge of the configured type (<c>MailAuth:Tls:Acme:Challenge</c>) on the web listener.</summary>
internal sealed class AcmeChallengeAnswers(string type, AcmeHttpChallenges http, AcmeTlsAlpnChallenges tlsAlpn)
{
    public const string Http01 = "http-01";
    public const string TlsAlpn01 = "tls-alpn-01";

    public string Type => type;

    public void Add(string hostName, string token, string keyAuthorization)
    {
        if (type == TlsAlpn01)
        {
            tlsAlpn.Add(hostName, keyAuthorization);
        }
        else
        {
            http.Add(token, keyAuthorization);
        }
    }

    public void Remove(string hostName, string token)
    {
        if (type == TlsAlpn01)
        {
            tlsAlpn.Remove(hostName);
        }
        else
        {
            http.Remove(token);
        }
    }
}
