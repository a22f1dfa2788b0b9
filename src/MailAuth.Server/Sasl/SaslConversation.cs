using System.Buffers;
using System.Buffers.Text;

namespace MailAuth.Server.Sasl;

internal enum SaslReplyKind
{
    Response,

    /// <summary>The client sent "*" (RFC 4422 §3.5 abort).</summary>
    Cancelled,

    /// <summary>The line was not valid base64.</summary>
    Malformed,

    /// <summary>The client went away or timed out.</summary>
    Disconnected,

    /// <summary>The client's line was longer than the protocol allows; the protocol decides whether to go on.</summary>
    LineTooLong,
}

internal readonly record struct SaslReply(SaslReplyKind Kind, byte[] Data);

internal enum SaslOutcomeKind
{
    Credentials,
    Cancelled,
    Malformed,
    Disconnected,
    LineTooLong,
}

internal readonly record struct SaslOutcome(SaslOutcomeKind Kind, SaslCredentials? Credentials, SaslMalformation? Malformation);

/// <summary>
/// Drives a mechanism to the end. The protocol supplies how a challenge is sent and the reply
/// read (IMAP "+ …", SMTP "334 …"); everything else is shared.
/// </summary>
internal static class SaslConversation
{
    /// <summary>PLAIN needs one round, LOGIN two; more means a confused or hostile client.</summary>
    private const int MaxRounds = 4;

    private static readonly SearchValues<byte> Base64Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="u8);

    public static async Task<SaslOutcome> RunAsync(
        SaslMechanism mechanism,
        byte[]? initialResponse,
        Func<byte[], CancellationToken, ValueTask<SaslReply>> challenge,
        CancellationToken cancellationToken)
    {
        var response = initialResponse;
        for (var round = 0; round <= MaxRounds; round++)
        {
            var step = mechanism.Step(response);
            switch (step.Kind)
            {
                case SaslStepKind.Done:
                    return new SaslOutcome(SaslOutcomeKind.Credentials, step.Credentials, null);
                case SaslStepKind.Malformed:
                    return new SaslOutcome(SaslOutcomeKind.Malformed, null, SaslMalformation.RefusedByMechanism(step.Error!));
            }
            var reply = await challenge(step.Challenge, cancellationToken);
            switch (reply.Kind)
            {
                case SaslReplyKind.Cancelled:
                    return new SaslOutcome(SaslOutcomeKind.Cancelled, null, null);
                case SaslReplyKind.Malformed:
                    return new SaslOutcome(SaslOutcomeKind.Malformed, null, SaslMalformation.ResponseNotBase64);
                case SaslReplyKind.Disconnected:
                    return new SaslOutcome(SaslOutcomeKind.Disconnected, null, null);
                case SaslReplyKind.LineTooLong:
                    return new SaslOutcome(SaslOutcomeKind.LineTooLong, null, null);
            }
            response = reply.Data;
        }
        return new SaslOutcome(SaslOutcomeKind.Malformed, null, SaslMalformation.TooManyRounds);
    }

    /// <summary>
    /// Decodes a client's SASL line: "*" cancels, "=" is an empty initial response (RFC 4959,
    /// RFC 4954), anything else must be strict base64 (no spaces, correct padding).
    /// </summary>
    public static SaslReply Decode(ReadOnlySpan<byte> line)
    {
        if (line.SequenceEqual("*"u8))
        {
            return new SaslReply(SaslReplyKind.Cancelled, []);
        }
        if (line.SequenceEqual("="u8))
        {
            return new SaslReply(SaslReplyKind.Response, []);
        }
        // Base64.DecodeFromUtf8 skips whitespace; a SASL line may not contain any.
        if (line.ContainsAnyExcept(Base64Alphabet))
        {
            return new SaslReply(SaslReplyKind.Malformed, []);
        }
        var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(line.Length)];
        var status = Base64.DecodeFromUtf8(line, decoded, out var consumed, out var written);
        return status == OperationStatus.Done && consumed == line.Length
            ? new SaslReply(SaslReplyKind.Response, decoded[..written])
            : new SaslReply(SaslReplyKind.Malformed, []);
    }

    public static string Encode(byte[] challenge) => Convert.ToBase64String(challenge);
}
