using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Tests.Protocol;

/// <summary>
/// <see cref="LocalPeer"/> on real connections: from this process (root) and from a python process
/// running as nobody, over TCP (sock_diag and /proc/net/tcp both) and a UNIX socket (SO_PEERCRED).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LocalPeerTests
{
    /// <summary>Connects (argv: "tcp" PORT or "unix" PATH), says so, and holds the connection until stdin closes.</summary>
    private const string HoldingClient = """
        import socket, sys
        kind, where = sys.argv[1:]
        if kind == "unix":
            client = socket.socket(socket.AF_UNIX)
            client.connect(where)
        else:
            client = socket.create_connection(("127.0.0.1", int(where)))
        print("connected", flush=True)
        sys.stdin.read()
        """;

    private string _directory = null!;

    [OneTimeSetUp]
    public void CreateDirectory() => _directory = OtherUser.CreateTraversableDirectory();

    [OneTimeTearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    /// <summary>nobody's python connected to <paramref name="listener"/>, and the accepted socket.</summary>
    private static async Task<(Process Client, Socket Accepted)> ConnectAsNobodyAsync(Socket listener, string kind, string where)
    {
        var client = OtherUser.StartPython(OtherUser.Nobody, "nogroup", HoldingClient, kind, where);
        var accept = listener.AcceptAsync();
        var said = await client.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (said != "connected")
        {
            Assert.Fail($"the client did not connect: {await client.StandardError.ReadToEndAsync()}");
        }
        return (client, await accept.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    private static async Task CloseAsync(Process client)
    {
        client.StandardInput.Close();
        await client.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        client.Dispose();
    }

    private static Socket TcpListener() =>
        ListeningSocket.Listen(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), new IPEndPoint(IPAddress.Loopback, 0), 4);

    [Test]
    public void SockDiagWorksHere()
    {
        // Otherwise the /proc/net/tcp fallback would be the only one tested end to end below.
        Assert.That(LocalPeer.TcpMethod, Is.EqualTo("sock_diag"));
    }

    [Test]
    public async Task ATcpConnectionFromThisProcessIsRoots()
    {
        using var listener = TcpListener();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();

        Assert.Multiple(() =>
        {
            Assert.That(LocalPeer.Identify(accepted), Is.EqualTo(new PeerIdentity(0)));
            Assert.That(LocalPeer.OwnerInProcNetTcp((IPEndPoint)accepted.RemoteEndPoint!, (IPEndPoint)accepted.LocalEndPoint!), Is.Zero);
        });
    }

    [Category("External")]
    [Test]
    public async Task ATcpConnectionFromNobodyIsNobodysUntilItCloses()
    {
        using var listener = TcpListener();
        var (client, accepted) = await ConnectAsNobodyAsync(listener, "tcp", ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var _ = accepted;
        var peer = (IPEndPoint)accepted.RemoteEndPoint!;
        var ours = (IPEndPoint)accepted.LocalEndPoint!;

        Assert.Multiple(() =>
        {
            Assert.That(SockDiag.TryFindOwner(peer, ours, out var owner), Is.True);
            Assert.That(owner, Is.EqualTo(OtherUser.NobodyId));
            Assert.That(LocalPeer.OwnerInProcNetTcp(peer, ours), Is.EqualTo(OtherUser.NobodyId));
            Assert.That(LocalPeer.Identify(accepted), Is.EqualTo(new PeerIdentity(OtherUser.NobodyId)));
        });

        await CloseAsync(client);

        // Its socket now belongs to no process, and the kernel shows such sockets as uid 0: not root.
        Assert.Multiple(() =>
        {
            Assert.That(SockDiag.TryFindOwner(peer, ours, out var owner), Is.True);
            Assert.That(owner, Is.Null);
            Assert.That(LocalPeer.OwnerInProcNetTcp(peer, ours), Is.Null);
            Assert.That(LocalPeer.Identify(accepted), Is.Null);
        });
    }

    [Test]
    public void AConnectionThatDoesNotExistHasNoOwner()
    {
        var peer = new IPEndPoint(IPAddress.Loopback, 1);
        var ours = new IPEndPoint(IPAddress.Loopback, 2);

        Assert.Multiple(() =>
        {
            Assert.That(SockDiag.TryFindOwner(peer, ours, out var owner), Is.True);
            Assert.That(owner, Is.Null);
            Assert.That(LocalPeer.OwnerInProcNetTcp(peer, ours), Is.Null);
        });
    }

    [Category("External")]
    [Test]
    public async Task AUnixSocketPeerIsKnownByUidGidAndPid()
    {
        var path = Path.Combine(_directory, "peer.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, (UnixFileMode)0x1b6); // 0666: nobody may connect
        listener.Listen(4);

        var (client, accepted) = await ConnectAsNobodyAsync(listener, "unix", path);
        using var _ = accepted;
        var identity = LocalPeer.Identify(accepted);
        var processId = client.Id; // setpriv executes python in its own process
        await CloseAsync(client);

        Assert.That(identity, Is.EqualTo(new PeerIdentity(OtherUser.NobodyId, 65534, processId)));
        Assert.That(identity.ToString(), Is.EqualTo($"uid 65534 (nobody) gid 65534 pid {processId}"));
    }

    [Test]
    public async Task AUnixSocketPeerFromThisProcessIsThisProcess()
    {
        var path = Path.Combine(_directory, "self.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(4);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        using var accepted = await listener.AcceptAsync();

        Assert.That(LocalPeer.Identify(accepted), Is.EqualTo(new PeerIdentity(0, 0, Environment.ProcessId)));
    }
}
