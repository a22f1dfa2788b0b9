using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailAuth.Server.Protocol;

/// <summary>
/// Reads the kernel's table of TCP sockets (<c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>, proc(5)),
/// a line per socket:
/// <c>sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …</c>.
/// Addresses are hex: each 32-bit word of the address as the CPU holds it (little-endian on x86 and
/// arm64, so 127.0.0.1 is <c>0100007F</c>), the port in network order (<c>%04X</c>). Pure: the tests
/// drive it with real lines.
/// </summary>
internal static class ProcNetTcp
{
    /// <summary>
    /// The uid owning the connected socket whose own end is <paramref name="socketEnd"/> and whose
    /// other end is <paramref name="otherEnd"/> (both keys from <see cref="Key"/>), or null when the
    /// table has none. Only an established socket with an inode counts: once a socket is closed by its
    /// process the kernel shows it as uid 0 (TIME_WAIT, an orphan in FIN_WAIT2), which would pass any
    /// caller who closes quickly for root.
    /// </summary>
    public static uint? FindOwner(ReadOnlySpan<byte> table, string socketEnd, string otherEnd)
    {
        Span<byte> local = stackalloc byte[socketEnd.Length];
        Span<byte> remote = stackalloc byte[otherEnd.Length];
        Encoding.ASCII.GetBytes(socketEnd, local);
        Encoding.ASCII.GetBytes(otherEnd, remote);
        var first = true;
        foreach (var range in table.Split((byte)'\n'))
        {
            var line = table[range];
            if (first)
            {
                first = false; // the header
                continue;
            }
            var fields = new Fields(line);
            if (!fields.Next(out _)                                                         // sl
                || !fields.Next(out var lineLocal) || !Ascii.EqualsIgnoreCase(lineLocal, local)
                || !fields.Next(out var lineRemote) || !Ascii.EqualsIgnoreCase(lineRemote, remote)
                || !fields.Next(out var state) || !state.SequenceEqual("01"u8)                   // ESTABLISHED
                || !fields.Next(out _) || !fields.Next(out _) || !fields.Next(out _)          // tx:rx, tr:when, retrnsmt
                || !fields.Next(out var uid) || !fields.Next(out _) || !fields.Next(out var inode)
                || inode.SequenceEqual("0"u8)
                || !uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var owner))
            {
                continue;
            }
            return owner;
        }
        return null;
    }

    /// <summary>
    /// <paramref name="endPoint"/> as the table writes it: <c>0100007F:CD1E</c> in <c>/proc/net/tcp</c>
    /// (<paramref name="ipv6"/> false), 32 hex digits and the port in <c>/proc/net/tcp6</c>, where an IPv4
    /// address appears mapped (<c>::ffff:127.0.0.1</c>, a client's IPv6 socket connected to an IPv4
    /// address). Null when the address cannot appear in that table (IPv6 in <c>/proc/net/tcp</c>).
    /// </summary>
    public static string? Key(IPEndPoint endPoint, bool ipv6)
    {
        var address = endPoint.Address;
        if (ipv6)
        {
            address = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        }
        else if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }
        var bytes = address.GetAddressBytes();
        var text = new StringBuilder(bytes.Length * 2 + 5);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            // Each 32-bit word as the kernel prints it (%08X of the word in the CPU's byte order).
            var value = BitConverter.ToUInt32(bytes, word);
            text.Append(value.ToString("X8", CultureInfo.InvariantCulture));
        }
        return text.Append(CultureInfo.InvariantCulture, $":{endPoint.Port:X4}").ToString();
    }

    /// <summary>Space-separated fields of one line, without allocating.</summary>
    private ref struct Fields(ReadOnlySpan<byte> line)
    {
        private ReadOnlySpan<byte> _rest = line;

        public bool Next(out ReadOnlySpan<byte> field)
        {
            _rest = _rest.TrimStart((byte)' ');
            var end = _rest.IndexOf((byte)' ');
            field = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? [] : _rest[end..];
            return field.Length > 0;
        }
    }
}
