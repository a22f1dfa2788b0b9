using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MailAuth.Server.Tls.Acme;

/// <summary>
/// Signs ACME requests with the account key: JWS in flattened JSON serialization (RFC 8555 §6.2,
/// RFC 7515 §7.2.2), ES256 (an ECDSA P-256 key, RFC 7518 §3.4).
/// </summary>
internal sealed class AcmeSigner(ECDsa accountKey)
{
    /// <summary>
    /// The public key as a JWK with exactly the required members in lexicographic order and no
    /// white space (RFC 7638 §3.2), so that the same text serves the thumbprint.
    /// </summary>
    public string Jwk { get; } = CanonicalJwk(accountKey);

    /// <summary>RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)), the second half of every key authorization.</summary>
    public string Thumbprint => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(Jwk)));

    /// <summary>RFC 8555 §8.1: what the HTTP-01 resource must answer for <paramref name="token"/>.</summary>
    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    /// <summary>
    /// A request body for <paramref name="url"/>. Before the account exists (<paramref name="accountUrl"/>
    /// null) the header carries the key itself ("jwk"), afterwards the account URL ("kid"), RFC 8555 §6.2.
    /// A null <paramref name="payload"/> is POST-as-GET (§6.3): an empty payload.
    /// </summary>
    public byte[] Sign(string url, string nonce, string? accountUrl, JsonObject? payload)
    {
        using var header = new MemoryStream();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", "ES256");
            if (accountUrl is null)
            {
                writer.WritePropertyName("jwk");
                writer.WriteRawValue(Jwk);
            }
            else
            {
                writer.WriteString("kid", accountUrl);
            }
            writer.WriteString("nonce", nonce);
            writer.WriteString("url", url);
            writer.WriteEndObject();
        }
        var protectedHeader = Base64Url.EncodeToString(header.ToArray());
        var body = payload is null ? "" : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = accountKey.SignData(
            Encoding.ASCII.GetBytes(protectedHeader + "." + body), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return Encoding.UTF8.GetBytes(new JsonObject
        {
            ["protected"] = protectedHeader,
            ["payload"] = body,
            ["signature"] = Base64Url.EncodeToString(signature),
        }.ToJsonString());
    }

    private static string CanonicalJwk(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new CryptographicException("the ACME account key must be ECDSA P-256 (ES256)");
        }
        return "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + Base64Url.EncodeToString(parameters.Q.X)
            + "\",\"y\":\"" + Base64Url.EncodeToString(parameters.Q.Y) + "\"}";
    }
}
