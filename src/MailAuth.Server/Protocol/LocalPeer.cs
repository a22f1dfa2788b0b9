using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MailAuth.Server.Protocol;

/// <summary>Who opened the other end of a local connection; group and process are known on UNIX sockets only.</summary>
internal readonly record struct PeerIdentity(uint UserId, uint? GroupId = null, int? ProcessId = null)
{
    /// <summary>For the log: <c>uid 65534 (nobody) gid 65534 pid 4321</c>.</summary>
    public override string ToString()
    {
        var text = $"uid {UserId.ToString(CultureInfo.InvariantCulture)}";
        if (UnixUsers.NameOf(UserId) is { } name)
        {
            text += $" ({name})";
        }
        if (GroupId is { } gid)
        {
            text += $" gid {gid.ToString(CultureInfo.InvariantCulture)}";
        }
        if (ProcessId is { } pid)
        {
            text += $" pid {pid.ToString(CultureInfo.InvariantCulture)}";
        }
        return text;
    }
}

/// <summary>
/// The kernel's answer to "which user is at the other end of this connection": for a UNIX socket
/// the credentials the peer connected with (SO_PEERCRED); for a TCP connection on this host the
/// owner of the peer's socket, as identd answers it (sock_diag, else <c>/proc/net/tcp</c>). A caller
/// cannot choose either, unlike anything it sends.
/// </summary>
internal static class LocalPeer
{
    // Linux <asm-generic/socket.h>.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Null when the kernel cannot say: the peer is not on this host, or its socket is already closed.</summary>
    public static PeerIdentity? Identify(Socket socket)
    {
        try
        {
            return socket.AddressFamily switch
            {
                AddressFamily.Unix => FromPeerCredentials(socket),
                AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
                    when socket.RemoteEndPoint is IPEndPoint remote && socket.LocalEndPoint is IPEndPoint local
                    => OwnerOfTcpPeer(remote, local) is { } uid ? new PeerIdentity(uid) : null,
                _ => null,
            };
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary><c>struct ucred { pid_t pid; uid_t uid; gid_t gid; }</c>, taken by the kernel when the peer connected.</summary>
    private static PeerIdentity? FromPeerCredentials(Socket socket)
    {
        Span<byte> credentials = stackalloc byte[12];
        if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) != credentials.Length)
        {
            return null;
        }
        return new PeerIdentity(
            MemoryMarshal.Read<uint>(credentials[4..]),
            MemoryMarshal.Read<uint>(credentials[8..]),
            MemoryMarshal.Read<int>(credentials));
    }

    /// <summary>How TCP callers are identified here: sock_diag, else (a kernel or sandbox without it) /proc/net/tcp.</summary>
    public static string TcpMethod => SockDiagWorks.Value ? "sock_diag" : "/proc/net/tcp";

    /// <summary>
    /// Whether sock_diag finds a connection here: its answer for a missing socket and for a kernel
    /// without TCP support in sock_diag is the same (ENOENT), so a real connection is looked up once.
    /// </summary>
    private static readonly Lazy<bool> SockDiagWorks = new(() =>
    {
        try
        {
            using var listener = ListeningSocket.Listen(
                new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(IPAddress.Loopback, 0), 1);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using var accepted = listener.Accept();
            return SockDiag.TryFindOwner((IPEndPoint)accepted.RemoteEndPoint!, (IPEndPoint)accepted.LocalEndPoint!, out var owner) && owner is not null;
        }
        catch (SocketException)
        {
            return false;
        }
    });

    /// <summary>
    /// The uid owning the socket whose own end is <paramref name="peer"/> and whose other end is
    /// <paramref name="ours"/> (an accepted connection's remote and local end points).
    /// </summary>
    public static uint? OwnerOfTcpPeer(IPEndPoint peer, IPEndPoint ours) =>
        SockDiagWorks.Value && SockDiag.TryFindOwner(peer, ours, out var owner) ? owner : OwnerInProcNetTcp(peer, ours);

    /// <summary>The same answer from <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>, read whole.</summary>
    public static uint? OwnerInProcNetTcp(IPEndPoint peer, IPEndPoint ours)
    {
        // An IPv4 connection is in /proc/net/tcp, or in /proc/net/tcp6 when the client's socket is IPv6.
        foreach (var (table, ipv6) in new[] { ("/proc/net/tcp", false), ("/proc/net/tcp6", true) })
        {
            if (ProcNetTcp.Key(peer, ipv6) is { } peerKey && ProcNetTcp.Key(ours, ipv6) is { } ourKey
                && FindInTable(table, peerKey, ourKey) is { } uid)
            {
                return uid;
            }
        }
        return null;
    }

    private static uint? FindInTable(string path, string socketEnd, string otherEnd)
    {
        FileStream file;
        try
        {
#pragma warning disable CA2000 // disposed by the using below; nothing runs in between
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
#pragma warning restore CA2000
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // no IPv6, or no /proc
        }
        using (file)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                // The kernel generates the table as it is read, a page or so per read; its size is unknown.
                var length = 0;
                int read;
                while ((read = file.Read(buffer, length, buffer.Length - length)) > 0)
                {
                    length += read;
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }
                return ProcNetTcp.FindOwner(buffer.AsSpan(0, length), socketEnd, otherEnd);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
