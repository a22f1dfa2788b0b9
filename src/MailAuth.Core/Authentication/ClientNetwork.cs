using System.Net;
using System.Net.Sockets;

namespace MailAuth.Core.Authentication;

/// <summary>
/// The unit that limits and penalties apply to: an IPv4 address, or an IPv6 /64, since one IPv6
/// host (and every host of one customer) can use a whole /64.
/// </summary>
public static class ClientNetwork
{
    public static IPAddress Of(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address))
        {
            return address;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
