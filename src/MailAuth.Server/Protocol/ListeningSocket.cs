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
