using System.Text;

namespace MailAuth.Server.Sasl;

internal sealed record SaslCredentials(string Username, string Password);

internal enum SaslStepKind
{
    /// <summary>Send <see cref="SaslStep.Challenge"/> and pass the client's answer to the next step.</summary>
    Challenge,

    /// <summary>The exchange is over; <see cref="SaslStep.Credentials"/> are ready to verify.</summary>
    Done,

    /// <summary>The client's message was malformed; <see cref="SaslStep.Error"/> says how.</summary>
    Malformed,
}

internal readonly record struct SaslStep(SaslStepKind Kind, byte[] Challenge, SaslCredentials? Credentials, string? Error)
{
    public static SaslStep Ask(string challenge) => new(SaslStepKind.Challenge, Encoding.ASCII.GetBytes(challenge), null, null);

    public static SaslStep Finish(string username, string password) => new(SaslStepKind.Done, [], new SaslCredentials(username, password), null);

    public static SaslStep Refuse(string error) => new(SaslStepKind.Malformed, [], null, error);
}

/// <summary>
/// A server-side SASL mechanism (RFC 4422): one object per exchange, fed the decoded client
/// messages in order. The first call gets the initial response, or null when the client sent none.
/// </summary>
internal abstract class SaslMechanism
{
    protected static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public abstract string Name { get; }

    public abstract SaslStep Step(byte[]? response);

    /// <summary>Creates the mechanism named by the client (case-insensitive), or null when we offer no such thing.</summary>
    public static SaslMechanism? Create(string name) => name.ToUpperInvariant() switch
    {
        "PLAIN" => new PlainMechanism(),
        "LOGIN" => new LoginMechanism(),
        _ => null,
    };

    /// <summary>What we advertise, in order of preference.</summary>
    public static readonly string[] Names = ["PLAIN", "LOGIN"];

    protected static bool TryDecodeText(byte[] bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
