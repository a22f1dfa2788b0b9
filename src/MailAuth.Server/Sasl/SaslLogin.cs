using MailAuth.Core.Authentication;

namespace MailAuth.Server.Sasl;

/// <summary>
/// The one path from a SASL exchange (or a username and password) to the mail authenticator, for
/// every front end: it runs the mechanism, verifies what it yields and says how it ended.
/// Protocol-neutral: the front end supplies how a challenge travels and words the outcome.
/// </summary>
internal sealed class SaslLogin(MailAuthenticator authenticator)
{
    /// <summary>Verifies a username and password that arrived without SASL (IMAP LOGIN, nginx's auth_http).</summary>
    public async Task<SaslLoginOutcome> VerifyAsync(string username, string password, ClientContext client, CancellationToken cancellationToken)
    {
        var result = await authenticator.AuthenticateAsync(username, password, client, cancellationToken);
        return result.Status switch
        {
            AuthenticationStatus.Succeeded => new SaslLoginOutcome.Succeeded(result.Address!, result.ChangeLogPosition),
            AuthenticationStatus.TemporarilyUnavailable => new SaslLoginOutcome.Busy(),
            _ => new SaslLoginOutcome.Failed(),
        };
    }

    /// <summary>Runs the whole exchange on a connection the protocol reads in order (IMAP, SMTP).</summary>
    public async Task<SaslLoginOutcome> RunAsync(
        SaslMechanism mechanism,
        byte[]? initialResponse,
        Func<byte[], CancellationToken, ValueTask<SaslReply>> challenge,
        ClientContext client,
        CancellationToken cancellationToken)
    {
        var outcome = await SaslConversation.RunAsync(mechanism, initialResponse, challenge, cancellationToken);
        return outcome.Kind switch
        {
            SaslOutcomeKind.Credentials => await VerifyAsync(outcome.Credentials!.Username, outcome.Credentials.Password, client, cancellationToken),
            SaslOutcomeKind.Cancelled => new SaslLoginOutcome.Cancelled(),
            SaslOutcomeKind.Malformed => new SaslLoginOutcome.Malformed(outcome.Malformation!),
            SaslOutcomeKind.LineTooLong => new SaslLoginOutcome.LineTooLong(),
            _ => new SaslLoginOutcome.Disconnected(),
        };
    }

    /// <summary>
    /// One message of an exchange whose messages arrive as separate requests (the Dovecot auth
    /// protocol's AUTH and CONT): the next challenge, or the outcome.
    /// </summary>
    public async Task<SaslLoginStep> StepAsync(SaslMechanism mechanism, byte[]? response, ClientContext client, CancellationToken cancellationToken)
    {
        var step = mechanism.Step(response);
        return step.Kind switch
        {
            SaslStepKind.Challenge => SaslLoginStep.Ask(step.Challenge),
            SaslStepKind.Malformed => SaslLoginStep.End(new SaslLoginOutcome.Malformed(SaslMalformation.RefusedByMechanism(step.Error!))),
            _ => SaslLoginStep.End(await VerifyAsync(step.Credentials!.Username, step.Credentials.Password, client, cancellationToken)),
        };
    }

    /// <summary>
    /// Decodes an initial response: false, with the outcome to answer, when it is "*" or not
    /// base64 (RFC 4954 §4 and RFC 4959 let a client cancel there too).
    /// </summary>
    public static bool TryDecodeInitialResponse(ReadOnlySpan<byte> text, out byte[] data, out SaslLoginOutcome? refusal)
    {
        var reply = SaslConversation.Decode(text);
        data = reply.Data;
        refusal = reply.Kind switch
        {
            SaslReplyKind.Response => null,
            SaslReplyKind.Cancelled => new SaslLoginOutcome.Cancelled(),
            _ => new SaslLoginOutcome.Malformed(SaslMalformation.InitialResponseNotBase64),
        };
        return refusal is null;
    }
}
