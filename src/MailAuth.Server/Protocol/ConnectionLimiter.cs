using System.Collections.Concurrent;
using System.Net;
using MailAuth.Core.Authentication;

namespace MailAuth.Server.Protocol;

/// <summary>
/// Counts open connections of one protocol (both its ports) in total and per client network:
/// an IPv4 address, or an IPv6 /64, since one IPv6 host can use a whole /64.
/// </summary>
internal sealed class ConnectionLimiter(int maxPerNetwork, int maxTotal)
{
    private readonly ConcurrentDictionary<IPAddress, int> _perNetwork = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public bool TryAcquire(IPAddress client, out IPAddress network)
    {
        network = NetworkOf(client);
        if (Interlocked.Increment(ref _total) > maxTotal)
        {
            Interlocked.Decrement(ref _total);
            return false;
        }
        var count = _perNetwork.AddOrUpdate(network, 1, (_, current) => current + 1);
        if (count > maxPerNetwork)
        {
            Release(network);
            return false;
        }
        return true;
    }

    public void Release(IPAddress network)
    {
        Interlocked.Decrement(ref _total);
        while (_perNetwork.TryGetValue(network, out var count))
        {
            if (count <= 1
                ? _perNetwork.TryRemove(KeyValuePair.Create(network, count))
                : _perNetwork.TryUpdate(network, count - 1, count))
            {
                return;
            }
        }
    }

    /// <summary>The unit that limits and penalties apply to (see <see cref="ClientNetwork"/>).</summary>
    public static IPAddress NetworkOf(IPAddress address) => ClientNetwork.Of(address);
}
