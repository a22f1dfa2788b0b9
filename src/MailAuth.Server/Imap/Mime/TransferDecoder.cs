namespace MailAuth.Server.Imap.Mime;

/// <summary>The Content-Transfer-Encodings BINARY can undo (RFC 3516 §4.2); anything else is [UNKNOWN-CTE].</summary>
internal enum TransferEncoding
{
    /// <summary>7bit, 8bit, binary, or none: the bytes are the content.</summary>
    Identity,
    Base64,
    QuotedPrintable,
}

/// <summary>
/// Decodes base64 (RFC 2045 §6.8) or quoted-printable (RFC 2045 §6.7) as a stream: input comes in
/// pieces of any size and the state between them is a few bytes, so a part is decoded without
/// being held. Tolerant like the rest of the parsing: characters outside the alphabet are skipped
/// in base64, and a malformed <c>=</c> escape in quoted-printable is kept as it is.
/// </summary>
internal sealed class TransferDecoder(TransferEncoding encoding)
{
    /// <summary>Trailing whitespace is held until the line's end shows whether it is trailing (then dropped, §6.7 rule 3); beyond this it is kept.</summary>
    private const int MaxHeldWhitespace = 1024;

    private readonly List<byte> _whitespace = [];
    private int _sextets;
    private int _quantum;
    private QpState _state;
    private int _firstHex;

    private enum QpState
    {
        Text,

        /// <summary>After <c>=</c>.</summary>
        Equals,

        /// <summary>After <c>=</c> and one hex digit.</summary>
        FirstHex,

        /// <summary>After <c>=</c> and whitespace: a soft line break if the line ends here.</summary>
        EqualsSpace,

        /// <summary>After CR.</summary>
        CarriageReturn,

        /// <summary>A soft line break's CR was seen; its LF is dropped.</summary>
        SoftCarriageReturn,
    }

    /// <summary>The encoding a Content-Transfer-Encoding value names; null when it is unknown.</summary>
    public static TransferEncoding? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "7bit" or "8bit" or "binary" => TransferEncoding.Identity,
        "base64" => TransferEncoding.Base64,
        "quoted-printable" => TransferEncoding.QuotedPrintable,
        _ => null,
    };

    /// <summary>Decodes <paramref name="input"/>, appending to <paramref name="output"/>.</summary>
    public void Decode(ReadOnlySpan<byte> input, List<byte> output)
    {
        switch (encoding)
        {
            case TransferEncoding.Identity:
                output.AddRange(input);
                break;
            case TransferEncoding.Base64:
                foreach (var b in input)
                {
                    DecodeBase64(b, output);
                }
                break;
            default:
                foreach (var b in input)
                {
                    DecodeQuotedPrintable(b, output);
                }
                break;
        }
    }

    /// <summary>The end of the input: an incomplete base64 quantum gives its whole bytes, an unfinished escape is kept.</summary>
    public void Finish(List<byte> output)
    {
        if (encoding == TransferEncoding.Base64)
        {
            if (_sextets == 2)
            {
                output.Add((byte)(_quantum >> 4));
            }
            else if (_sextets == 3)
            {
                output.Add((byte)(_quantum >> 10));
                output.Add((byte)(_quantum >> 2));
            }
            _sextets = 0;
            return;
        }
        if (encoding == TransferEncoding.QuotedPrintable)
        {
            switch (_state)
            {
                case QpState.Equals:
                    output.Add((byte)'=');
                    break;
                case QpState.FirstHex:
                    output.Add((byte)'=');
                    output.Add((byte)_firstHex);
                    break;
                case QpState.CarriageReturn:
                    output.Add((byte)'\r');
                    break;
            }
            _state = QpState.Text;
            _whitespace.Clear(); // Trailing whitespace at the very end is trailing too.
        }
    }

    private void DecodeBase64(byte b, List<byte> output)
    {
        var value = b switch
        {
            >= (byte)'A' and <= (byte)'Z' => b - 'A',
            >= (byte)'a' and <= (byte)'z' => b - 'a' + 26,
            >= (byte)'0' and <= (byte)'9' => b - '0' + 52,
            (byte)'+' => 62,
            (byte)'/' => 63,
            _ => -1,
        };
        if (value < 0)
        {
            return;
        }
        _quantum = (_quantum << 6) | value;
        if (++_sextets == 4)
        {
            output.Add((byte)(_quantum >> 16));
            output.Add((byte)(_quantum >> 8));
            output.Add((byte)_quantum);
            _sextets = 0;
            _quantum = 0;
        }
    }

    private void DecodeQuotedPrintable(byte b, List<byte> output)
    {
        switch (_state)
        {
            case QpState.Equals:
                if (Hex(b) >= 0)
                {
                    _firstHex = b;
                    _state = QpState.FirstHex;
                }
                else if (b is (byte)' ' or (byte)'\t')
                {
                    _state = QpState.EqualsSpace;
                }
                else if (b == '\r')
                {
                    _state = QpState.SoftCarriageReturn;
                }
                else if (b == '\n')
                {
                    _state = QpState.Text; // A soft line break with a bare LF.
                }
                else
                {
                    output.Add((byte)'=');
                    _state = QpState.Text;
                    DecodeQuotedPrintable(b, output);
                }
                return;
            case QpState.FirstHex:
                _state = QpState.Text;
                if (Hex(b) >= 0)
                {
                    output.Add((byte)((Hex(_firstHex) << 4) | Hex(b)));
                }
                else
                {
                    output.Add((byte)'=');
                    output.Add((byte)_firstHex);
                    DecodeQuotedPrintable(b, output);
                }
                return;
            case QpState.EqualsSpace:
                if (b is (byte)' ' or (byte)'\t')
                {
                    return;
                }
                _state = b == '\r' ? QpState.SoftCarriageReturn : QpState.Text;
                if (b is not ((byte)'\r' or (byte)'\n'))
                {
                    DecodeQuotedPrintable(b, output); // "= x": not a soft break; the whitespace after "=" is dropped.
                }
                return;
            case QpState.SoftCarriageReturn:
                _state = QpState.Text;
                if (b != '\n')
                {
                    DecodeQuotedPrintable(b, output);
                }
                return;
            case QpState.CarriageReturn:
                _state = QpState.Text;
                if (b == '\n')
                {
                    _whitespace.Clear();
                    output.Add((byte)'\r');
                    output.Add((byte)'\n');
                    return;
                }
                FlushWhitespace(output);
                output.Add((byte)'\r');
                DecodeQuotedPrintable(b, output);
                return;
        }
        switch (b)
        {
            case (byte)' ' or (byte)'\t':
                if (_whitespace.Count >= MaxHeldWhitespace)
                {
                    FlushWhitespace(output);
                }
                _whitespace.Add(b);
                break;
            case (byte)'=':
                FlushWhitespace(output);
                _state = QpState.Equals;
                break;
            case (byte)'\r':
                _state = QpState.CarriageReturn;
                break;
            case (byte)'\n':
                _whitespace.Clear();
                output.Add((byte)'\n');
                break;
            default:
                FlushWhitespace(output);
                output.Add(b);
                break;
        }
    }

    private void FlushWhitespace(List<byte> output)
    {
        output.AddRange(_whitespace);
        _whitespace.Clear();
    }

    private static int Hex(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
