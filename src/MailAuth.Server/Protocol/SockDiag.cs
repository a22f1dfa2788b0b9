using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MailAuth.Server.Protocol;

/// <summary>
/// sock_diag(7), as <c>ss</c> uses it: the kernel looks up one TCP socket by its addresses and
/// ports and says which uid owns it. One request and one answer (about 30 µs), however many
/// sockets the host has; reading <c>/proc/net/tcp</c> instead costs the kernel about 50 ms with
/// 20,000 sockets, on every connection.
/// </summary>
internal static partial class SockDiag
{
    private const int AfNetlink = 16;
    private const int SockDgram = 2;
    private const int SockCloexec = 0x80000;
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort NlmFRequest = 1;
    private const ushort NlmsgError = 2;
    private const int MsgDontWait = 0x40;
    private const byte TcpEstablished = 1;

    // struct nlmsghdr (16 bytes) + struct inet_diag_req_v2 (56 bytes) <linux/inet_diag.h>.
    private const int HeaderLength = 16;
    private const int RequestLength = HeaderLength + 56;

    // struct inet_diag_msg after the header: family, state, timer, retrans, id (48), expires, rqueue, wqueue, uid, inode.
    private const int StateOffset = HeaderLength + 1;
    private const int UidOffset = HeaderLength + 4 + 48 + 12;
    private const int InodeOffset = UidOffset + 4;

    /// <summary>
    /// The uid owning the established socket whose own end is <paramref name="socketEnd"/> and whose
    /// other end is <paramref name="otherEnd"/>, or null when there is none (it is closed, or not on this
    /// host). Only an established socket with an inode counts: a socket its process has closed shows as
    /// uid 0 (TIME_WAIT, an orphan), which would let a caller who closes quickly pass for root.
    /// False when sock_diag cannot be used here (no netlink, or a kernel without it).
    /// </summary>
    public static bool TryFindOwner(IPEndPoint socketEnd, IPEndPoint otherEnd, out uint? owner)
    {
        owner = null;
        var request = Request(socketEnd, otherEnd);
        var fd = Socket(AfNetlink, SockDgram | SockCloexec, NetlinkSockDiag);
        if (fd < 0)
        {
            return false;
        }
        try
        {
            if (Send(fd, request, (nuint)request.Length, 0) != request.Length)
            {
                return false;
            }
            // The kernel answers a request for one socket while sending it: nothing to wait for.
            var answer = new byte[512];
            var length = (int)Receive(fd, answer, (nuint)answer.Length, MsgDontWait);
            if (length < HeaderLength + 4)
            {
                return false;
            }
            var type = MemoryMarshal.Read<ushort>(answer.AsSpan(4));
            if (type == NlmsgError)
            {
                // -ENOENT: no such socket. Anything else means the lookup itself did not work.
                return MemoryMarshal.Read<int>(answer.AsSpan(HeaderLength)) == -2;
            }
            if (type != SockDiagByFamily || length < InodeOffset + 4)
            {
                return false;
            }
            if (answer[StateOffset] == TcpEstablished && MemoryMarshal.Read<uint>(answer.AsSpan(InodeOffset)) != 0)
            {
                owner = MemoryMarshal.Read<uint>(answer.AsSpan(UidOffset));
            }
            return true;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static byte[] Request(IPEndPoint socketEnd, IPEndPoint otherEnd)
    {
        // An IPv4 connection is found with an IPv4 request even when a socket is IPv6 (::ffff:a.b.c.d):
        // both are in the same table under their IPv4 addresses.
        var ipv4 = IsIPv4(socketEnd.Address) && IsIPv4(otherEnd.Address);
        var request = new byte[RequestLength];
        var span = request.AsSpan();
        // Netlink headers and inet_diag counters are in the CPU's byte order; ports and addresses in network order.
        MemoryMarshal.Write(span, (uint)RequestLength);
        MemoryMarshal.Write(span[4..], SockDiagByFamily);
        MemoryMarshal.Write(span[6..], NlmFRequest);
        var body = span[HeaderLength..];
        body[0] = ipv4 ? (byte)2 : (byte)10; // AF_INET, AF_INET6
        body[1] = 6; // IPPROTO_TCP
        MemoryMarshal.Write(body[4..], uint.MaxValue); // every state
        var id = body[8..];
        BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)socketEnd.Port);
        BinaryPrimitives.WriteUInt16BigEndian(id[2..], (ushort)otherEnd.Port);
        Bytes(socketEnd.Address, ipv4).CopyTo(id[4..]);
        Bytes(otherEnd.Address, ipv4).CopyTo(id[20..]);
        // id[36..40] is the interface (any); the cookie, INET_DIAG_NOCOOKIE, says "look up by address".
        MemoryMarshal.Write(id[40..], uint.MaxValue);
        MemoryMarshal.Write(id[44..], uint.MaxValue);
        return request;
    }

    private static bool IsIPv4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6;

    private static byte[] Bytes(IPAddress address, bool ipv4) =>
        ipv4 ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).GetAddressBytes()
             : (address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address).GetAddressBytes();

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, byte[] buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Receive(int fd, byte[] buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
