using MailAuth.Core.Addresses;

namespace MailAuth.Server.Sasl;

/// <summary>RFC 4616 PLAIN: <c>[authzid] NUL authcid NUL passwd</c>, in one message.</summary>
internal sealed class PlainMechanism : SaslMechanism
{
    private bool _askedForResponse;

    public override string Name => "PLAIN";

    public override SaslStep Step(byte[]? response)
    {
        if (response is null)
        {
            if (_askedForResponse)
            {
                return SaslStep.Refuse("expected a PLAIN response");
            }
            // No initial response: RFC 4422 §5 says send an empty challenge.
            _askedForResponse = true;
            return SaslStep.Ask("");
        }
        if (!TryDecodeText(response, out var message))
        {
            return SaslStep.Refuse("the PLAIN response is not UTF-8");
        }
        var parts = message.Split('\0');
        if (parts.Length != 3)
        {
            return SaslStep.Refuse("the PLAIN response must be authzid NUL authcid NUL password");
        }
        var (authorizationId, username, password) = (parts[0], parts[1], parts[2]);
        if (username.Length == 0)
        {
            return SaslStep.Refuse("the PLAIN response has an empty username");
        }
        // No proxy authorisation: logging in as A to act as B is never allowed.
        if (authorizationId.Length > 0 && !SameIdentity(authorizationId, username))
        {
            return SaslStep.Refuse("acting as another user (a different authorization identity) is not supported");
        }
        return SaslStep.Finish(username, password);
    }

    /// <summary>Equal as written (ignoring case), or as the same normalised address (an IDN spelled two ways).</summary>
    private static bool SameIdentity(string a, string b) =>
        string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
        || (AddressNormalizer.TryNormalize(a, out var first, out _) && AddressNormalizer.TryNormalize(b, out var second, out _) && first == second);
}
