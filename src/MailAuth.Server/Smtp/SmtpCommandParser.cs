using System.Globalization;
using System.Text;

namespace MailAuth.Server.Smtp;

/// <summary>A command line split into its verb (upper-case) and the rest, as sent.</summary>
internal readonly record struct SmtpCommand(string Verb, string Argument);

/// <summary>The BODY= parameter of MAIL (RFC 6152); BINARYMIME is not offered.</summary>
internal enum SmtpBodyType
{
    SevenBit,
    EightBitMime,
}

/// <summary>
/// <c>MAIL FROM:&lt;reverse-path&gt; [SIZE=n] [BODY=…] [SMTPUTF8]</c>. <see cref="ReversePath"/>
/// is empty for the null reverse-path <c>&lt;&gt;</c>.
/// </summary>
internal sealed record MailFromArguments(string ReversePath, long? Size, SmtpBodyType Body, bool SmtpUtf8);

/// <summary><c>RCPT TO:&lt;forward-path&gt;</c>.</summary>
internal sealed record RcptToArguments(string ForwardPath);

/// <summary><c>AUTH mechanism [initial-response]</c>; the response still base64, as sent.</summary>
internal sealed record AuthArguments(string Mechanism, string? InitialResponse);

/// <summary>Why an argument was refused, as the reply to send (code, enhanced code and text).</summary>
internal sealed record SmtpSyntaxError(string Reply);

/// <summary>
/// Pure parsing of SMTP command lines (RFC 5321 §4.1); no sockets, no state. The session decides
/// what a parsed command means.
/// </summary>
internal static class SmtpCommandParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes the line (UTF-8, for SMTPUTF8 addresses) and splits off the verb; false when the bytes are not UTF-8.</summary>
    public static bool TryParseLine(ReadOnlySpan<byte> line, out SmtpCommand command)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            command = default;
            return false;
        }
        command = ParseLine(text);
        return true;
    }

    public static SmtpCommand ParseLine(string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space < 0
            ? new SmtpCommand(line.ToUpperInvariant(), "")
            : new SmtpCommand(line[..space].ToUpperInvariant(), line[(space + 1)..]);
    }

    /// <summary>The argument of MAIL: <c>FROM:&lt;a@b&gt; params</c>; a space after the colon is tolerated (many clients send one).</summary>
    public static bool TryParseMailFrom(string argument, out MailFromArguments? command, out SmtpSyntaxError? error)
    {
        command = null;
        if (!TryParsePath(argument, "FROM:", allowNull: true, out var path, out var parameters, out error))
        {
            return false;
        }
        long? size = null;
        var body = SmtpBodyType.SevenBit;
        var smtpUtf8 = false;
        foreach (var parameter in parameters)
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            var keyword = (equals < 0 ? parameter : parameter[..equals]).ToUpperInvariant();
            var value = equals < 0 ? null : parameter[(equals + 1)..];
            switch (keyword)
            {
                case "SIZE" when value is not null:
                    // RFC 1870: size-value ::= 1*20DIGIT; more than a long holds is simply too big.
                    if (value.Length is 0 or > 20 || !value.All(char.IsAsciiDigit))
                    {
                        error = new SmtpSyntaxError(SmtpReply.InvalidSizeParameter);
                        return false;
                    }
                    size = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : long.MaxValue;
                    break;
                case "BODY" when value is not null:
                    switch (value.ToUpperInvariant())
                    {
                        case "7BIT":
                            body = SmtpBodyType.SevenBit;
                            break;
                        case "8BITMIME":
                            body = SmtpBodyType.EightBitMime;
                            break;
                        default:
                            error = new SmtpSyntaxError(SmtpReply.UnsupportedBody);
                            return false;
                    }
                    break;
                case "SMTPUTF8" when value is null:
                    smtpUtf8 = true;
                    break;
                case "AUTH" when value is not null:
                    // RFC 4954 §5: AUTH=<mailbox> may be ignored by a submission server; we do.
                    break;
                default:
                    error = new SmtpSyntaxError(SmtpReply.UnsupportedMailParameter(Printable(keyword)));
                    return false;
            }
        }
        command = new MailFromArguments(path, size, body, smtpUtf8);
        return true;
    }

    /// <summary>The argument of RCPT: <c>TO:&lt;a@b&gt;</c>. No RCPT parameters are offered (no DSN).</summary>
    public static bool TryParseRcptTo(string argument, out RcptToArguments? command, out SmtpSyntaxError? error)
    {
        command = null;
        if (!TryParsePath(argument, "TO:", allowNull: false, out var path, out var parameters, out error))
        {
            return false;
        }
        if (parameters.Count > 0)
        {
            var keyword = parameters[0].Split('=')[0];
            error = new SmtpSyntaxError(SmtpReply.UnsupportedRcptParameter(Printable(keyword.ToUpperInvariant())));
            return false;
        }
        command = new RcptToArguments(path);
        return true;
    }

    /// <summary>
    /// The argument of AUTH: a mechanism and an optional initial response. Runs of spaces are
    /// tolerated: Windows Mail sends <c>AUTH PLAIN  dGVzd…</c>.
    /// </summary>
    public static bool TryParseAuth(string argument, out AuthArguments? command, out SmtpSyntaxError? error)
    {
        command = null;
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2)
        {
            error = new SmtpSyntaxError(SmtpReply.SyntaxAuth);
            return false;
        }
        error = null;
        command = new AuthArguments(parts[0], parts.Length == 2 ? parts[1] : null);
        return true;
    }

    /// <summary>
    /// <c>KEYWORD:&lt;path&gt; *(SP param)</c>. The path may carry an obsolete source route
    /// (<c>&lt;@a,@b:user@c&gt;</c>, RFC 5321 §4.1.2), which is accepted and dropped (Appendix C).
    /// </summary>
    private static bool TryParsePath(
        string argument, string keyword, bool allowNull, out string path, out List<string> parameters, out SmtpSyntaxError? error)
    {
        path = "";
        parameters = [];
        var syntax = new SmtpSyntaxError(keyword == "FROM:" ? SmtpReply.SyntaxMailFrom : SmtpReply.SyntaxRcptTo);
        if (!argument.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
        {
            error = syntax;
            return false;
        }
        var rest = argument[keyword.Length..].TrimStart(' ');
        if (!rest.StartsWith('<'))
        {
            error = syntax;
            return false;
        }
        var close = rest.IndexOf('>', StringComparison.Ordinal);
        if (close < 0)
        {
            error = syntax;
            return false;
        }
        var inner = rest[1..close];
        var after = rest[(close + 1)..];
        if (after.Length > 0 && after[0] != ' ')
        {
            error = syntax;
            return false;
        }
        parameters = [.. after.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        if (inner.StartsWith('@'))
        {
            var colon = inner.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                error = syntax;
                return false;
            }
            inner = inner[(colon + 1)..];
        }
        if (inner.Length == 0)
        {
            if (!allowNull)
            {
                error = syntax;
                return false;
            }
            error = null;
            return true;
        }
        if (inner.Contains('<', StringComparison.Ordinal) || inner.Contains(' ', StringComparison.Ordinal)
            || inner.Any(char.IsControl) || !inner.Contains('@', StringComparison.Ordinal))
        {
            error = new SmtpSyntaxError(keyword == "FROM:" ? SmtpReply.BadSenderAddress : SmtpReply.BadRecipientAddress);
            return false;
        }
        path = inner;
        error = null;
        return true;
    }

    /// <summary>Client text made safe to echo in a reply: printable ASCII only, short.</summary>
    public static string Printable(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, 64));
        foreach (var c in text.Take(64))
        {
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return builder.ToString();
    }
}
