using System.Net.Sockets;

namespace MailAuth.Server.Protocol;

/// <summary>
/// The file of a listening UNIX socket (the control socket, the SASL service, auth_http): a stale
/// file left by a crashed server is replaced, the mode is set before the first caller can connect
/// to it through a wider one, and the file goes when the listener stops.
/// </summary>
internal static class UnixSocketFile
{
    /// <summary>0600: only the server's own user (the control socket).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0660: the server's user and its group (README: how Postfix and nginx reach the SASL service and auth_http).</summary>
    public const UnixFileMode OwnerAndGroup = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Binds and listens on <paramref name="path"/> with <paramref name="mode"/>; disposes the socket on failure.</summary>
    public static Socket Listen(string path, UnixFileMode mode, int backlog)
    {
        Remove(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, mode);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>After a server that binds the socket itself (Kestrel) has bound it.</summary>
    public static void Restrict(string path, UnixFileMode mode) => File.SetUnixFileMode(path, mode);

    /// <summary>At stop, and before a bind: a file left by a crashed server would fail it.</summary>
    public static void Remove(string path) => File.Delete(path);
}
