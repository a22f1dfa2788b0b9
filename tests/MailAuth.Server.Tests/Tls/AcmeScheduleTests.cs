using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailAuth.Server.Tls.Acme;

namespace MailAuth.Server.Tests.Tls;

[TestFixture]
public sealed class AcmeScheduleTests
{
    [Test]
    public void RenewalIsTwoThirdsIntoTheLifetime()
    {
        var notBefore = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.That(AcmeSchedule.RenewalTime(notBefore, notBefore.AddDays(90)), Is.EqualTo(notBefore.AddDays(60)));
    }

    [Test]
    public void FailuresAreRetriedLaterAndLaterUpToSixHours()
    {
        Assert.That(Enumerable.Range(1, 8).Select(AcmeSchedule.Backoff).Select(delay => delay.TotalMinutes),
            Is.EqualTo(new double[] { 5, 10, 20, 40, 80, 160, 320, 360 }));
        Assert.That(AcmeSchedule.Backoff(1000), Is.EqualTo(TimeSpan.FromHours(6)));
    }

    /// <summary>RFC 7638 §3: the thumbprint hashes the JWK's required members, sorted, without white space.</summary>
    [Test]
    public void TheSignatureVerifiesWithTheJwkAndTheThumbprintHashesItsCanonicalForm()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signer = new AcmeSigner(key);
        var parameters = key.ExportParameters(false);
        var expectedJwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64Url.EncodeToString(parameters.Q.X)}\",\"y\":\"{Base64Url.EncodeToString(parameters.Q.Y)}\"}}";
        Assert.That(signer.Jwk, Is.EqualTo(expectedJwk));
        Assert.That(signer.KeyAuthorization("tok_en-1"), Is.EqualTo("tok_en-1." + Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(expectedJwk)))));

        using var body = JsonDocument.Parse(signer.Sign("https://ca.example/new-order", "nonce-1", "https://ca.example/acct/1", new() { ["a"] = 1 }));
        var protectedHeader = body.RootElement.GetProperty("protected").GetString()!;
        var payload = body.RootElement.GetProperty("payload").GetString()!;
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(protectedHeader));
        Assert.That(header.RootElement.GetProperty("alg").GetString(), Is.EqualTo("ES256"));
        Assert.That(header.RootElement.GetProperty("kid").GetString(), Is.EqualTo("https://ca.example/acct/1"));
        Assert.That(header.RootElement.TryGetProperty("jwk", out _), Is.False, "kid and jwk are exclusive (RFC 8555 §6.2)");
        Assert.That(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(payload)), Is.EqualTo("{\"a\":1}"));
        var signature = Base64Url.DecodeFromChars(body.RootElement.GetProperty("signature").GetString()!);
        Assert.That(signature, Has.Length.EqualTo(64), "ES256: r and s, 32 bytes each (RFC 7518 §3.4)");
        Assert.That(key.VerifyData(Encoding.ASCII.GetBytes(protectedHeader + "." + payload), signature, HashAlgorithmName.SHA256), Is.True);
    }
}
