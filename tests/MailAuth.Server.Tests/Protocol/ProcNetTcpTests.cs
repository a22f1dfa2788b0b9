using System.Net;
using System.Text;
using MailAuth.Server.Protocol;

namespace MailAuth.Server.Tests.Protocol;

/// <summary>
/// <see cref="ProcNetTcp"/> on tables read from a real Linux 6.18 x86_64 host: a listener on
/// 127.0.0.1:12345 (0x3039) with a connection from a process of uid 65534 (port 52510 = 0xCD1E), and
/// one whose client had already closed (port 52520 = 0xCD28); in tcp6, listeners on [::1]:12346 and
/// [::]:12347 with connections from uid 65534, one of them over IPv4 to the dual-stack listener.
/// </summary>
[TestFixture]
public sealed class ProcNetTcpTests
{
    private const string Ipv4Table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
           0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 106885 2 00000000edfafeb4 100 0 0 10 0                    
           1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1520 1 0000000098a8fe85 100 0 0 10 0                      
           2: 0100007F:CD1E 0100007F:3039 01 00000000:00000000 00:00000000 00000000 65534        0 106895 1 00000000b2817bac 20 0 0 10 -1                    
           3: 0100007F:CD28 0100007F:3039 05 00000000:00000000 03:0000175C 00000000     0        0 0 3 000000009e88c53a                                      
           4: 0100007F:3039 0100007F:CD1E 01 00000000:00000000 00:00000000 00000000     0        0 106926 1 0000000031498730 20 0 0 10 -1                    
           5: 0100007F:3039 0100007F:CD28 08 00000000:00000001 00:00000000 00000000     0        0 0 1 00000000bb1a3121 20 4 0 10 -1                         

        """;

    private const string Ipv6Table = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:303B 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 106887 2 00000000ba697922 100 0 0 10 0
           1: 00000000000000000000000001000000:303A 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 106886 2 000000000b8ea6aa 100 0 0 10 0
           2: 0000000000000000FFFF00000100007F:ABC2 0000000000000000FFFF00000100007F:303B 01 00000000:00000000 00:00000000 00000000 65534        0 106897 1 00000000a1adf569 20 0 0 10 -1
           3: 0000000000000000FFFF00000100007F:303B 0000000000000000FFFF00000100007F:ABC2 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000693de1ee 20 0 0 10 -1
           4: 00000000000000000000000001000000:303A 00000000000000000000000001000000:B7E8 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000ae94b2cc 20 0 0 10 -1
           5: 00000000000000000000000001000000:B7E8 00000000000000000000000001000000:303A 01 00000000:00000000 00:00000000 00000000 65534        0 106896 1 0000000029a4fc79 20 0 0 10 -1

        """;

    private static uint? Owner(string table, string peer, string ours, bool ipv6) =>
        ProcNetTcp.FindOwner(Encoding.ASCII.GetBytes(table), ProcNetTcp.Key(IPEndPoint.Parse(peer), ipv6)!, ProcNetTcp.Key(IPEndPoint.Parse(ours), ipv6)!);

    [TestCase("127.0.0.1:52510", false, "0100007F:CD1E")]
    [TestCase("192.0.2.1:25", false, "010200C0:0019")]
    [TestCase("[::ffff:127.0.0.1]:12345", false, "0100007F:3039")]
    [TestCase("[::1]:47080", true, "00000000000000000000000001000000:B7E8")]
    [TestCase("127.0.0.1:43970", true, "0000000000000000FFFF00000100007F:ABC2")]
    [TestCase("[2001:db8::7]:993", true, "B80D0120000000000000000007000000:03E1")]
    public void EndPointsAreWrittenAsTheKernelWritesThem(string endPoint, bool ipv6, string key)
    {
        Assert.That(ProcNetTcp.Key(IPEndPoint.Parse(endPoint), ipv6), Is.EqualTo(key));
    }

    [Test]
    public void AnIPv6AddressHasNoKeyInTheIPv4Table()
    {
        Assert.That(ProcNetTcp.Key(IPEndPoint.Parse("[::1]:25"), ipv6: false), Is.Null);
    }

    [Test]
    public void TheOwnerOfThePeersSocketIsFound()
    {
        Assert.That(Owner(Ipv4Table, "127.0.0.1:52510", "127.0.0.1:12345", ipv6: false), Is.EqualTo(65534));
    }

    [Test]
    public void TheDirectionCounts()
    {
        // The same connection seen from the listener's side is the server's own socket (uid 0).
        Assert.That(Owner(Ipv4Table, "127.0.0.1:12345", "127.0.0.1:52510", ipv6: false), Is.Zero);
    }

    [Test]
    public void APeerThatClosedItsSocketIsNotTakenForRoot()
    {
        // Its process gone, the kernel shows the socket in FIN_WAIT2 as uid 0 with no inode.
        Assert.That(Ipv4Table, Does.Contain("0100007F:CD28 0100007F:3039 05 00000000:00000000 03:0000175C 00000000     0"));

        Assert.That(Owner(Ipv4Table, "127.0.0.1:52520", "127.0.0.1:12345", ipv6: false), Is.Null);
    }

    [Test]
    public void AnUnknownConnectionHasNoOwner()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Owner(Ipv4Table, "127.0.0.1:52511", "127.0.0.1:12345", ipv6: false), Is.Null);
            Assert.That(Owner(Ipv4Table, "127.0.0.2:52510", "127.0.0.1:12345", ipv6: false), Is.Null);
            Assert.That(Owner("", "127.0.0.1:52510", "127.0.0.1:12345", ipv6: false), Is.Null);
        });
    }

    [Test]
    public void IPv6AndIPv4MappedConnectionsAreFoundInTcp6()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Owner(Ipv6Table, "[::1]:47080", "[::1]:12346", ipv6: true), Is.EqualTo(65534));
            Assert.That(Owner(Ipv6Table, "127.0.0.1:43970", "127.0.0.1:12347", ipv6: true), Is.EqualTo(65534));
            Assert.That(Owner(Ipv6Table, "[::ffff:127.0.0.1]:43970", "[::ffff:127.0.0.1]:12347", ipv6: true), Is.EqualTo(65534));
        });
    }

    [Test]
    public void ASocketNotYetAcceptedHasNoInodeAndNoOwner()
    {
        // The listener's end of a connection still in its accept queue: established, uid 0, inode 0.
        Assert.That(Owner(Ipv6Table, "[::1]:12346", "[::1]:47080", ipv6: true), Is.Null);
    }
}
