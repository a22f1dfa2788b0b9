namespace MailAuth.Server.Sasl;

/// <summary>
/// The LOGIN mechanism (draft-murchison-sasl-login): username, then password, each prompted.
/// Outlook expects the prompts to read exactly "Username:" and "Password:".
/// </summary>
internal sealed class LoginMechanism : SaslMechanism
{
    private string? _username;
    private bool _askedForUsername;

    public override string Name => "LOGIN";

    public override SaslStep Step(byte[]? response)
    {
        if (_username is null)
        {
            if (response is null)
            {
                if (_askedForUsername)
                {
                    return SaslStep.Refuse("expected a username");
                }
                _askedForUsername = true;
                return SaslStep.Ask("Username:");
            }
            if (!TryDecodeText(response, out var username) || username.Length == 0)
            {
                return SaslStep.Refuse("the username is empty or not UTF-8");
            }
            _username = username;
            return SaslStep.Ask("Password:");
        }
        if (response is null || !TryDecodeText(response, out var password))
        {
            return SaslStep.Refuse("the password is not UTF-8");
        }
        return SaslStep.Finish(_username, password);
    }
}
