using System.Net;
using System.Net.Sockets;

namespace MailAuth.Server.Protocol;

/// <summary>TCP listening sockets that no second server can share.</summary>
internal static class ListeningSocket
{
    // Linux <asm-generic/socket.h>.
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <summary>
    /// Binds <paramref name="socket"/> to <paramref name="endPoint"/> and listens; disposes it on failure.
    /// SO_REUSEADDR alone lets a restarted server bind while the previous one's connections sit in
    /// TIME_WAIT. .NET's <see cref="SocketOptionName.ReuseAddress"/> is not used: on Linux it also sets
    /// SO_REUSEPORT, and then a second server binds the same port and silently takes part of the
    /// connections instead of failing to start.
    /// </summary>
    /// <summary>
    /// A TCP listener on <paramref name="bindAddress"/> (an IP address, or <c>*</c>: every IPv6 and
    /// IPv4 address) and <paramref name="port"/>; an <see cref="IOException"/> naming both when it cannot.
    /// </summary>
    public static Socket Open(string bindAddress, int port, int backlog)
    {
        try
        {
            if (bindAddress != "*")
            {
                var address = IPAddress.Parse(bindAddress);
                return Listen(new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(address, port), backlog);
            }
            if (Socket.OSSupportsIPv6)
            {
                var dualMode = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                return Listen(dualMode, new IPEndPoint(IPAddress.IPv6Any, port), backlog);
            }
            return Listen(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(IPAddress.Any, port), backlog);
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot listen on {bindAddress} port {port}: {e.Message}", e);
        }
    }

    public static Socket Listen(Socket socket, EndPoint endPoint, int backlog)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            }
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
