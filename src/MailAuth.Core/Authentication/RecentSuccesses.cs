using System.Collections.Concurrent;
using System.Net;

namespace MailAuth.Core.Authentication;

/// <summary>
/// The networks that recently logged in to an address. Bounded on its own, apart from the failure
/// counters, so that successes can never push failures out; when full, the expired and then the
/// oldest entries go until half the room is free, so the sorting is paid once per half a table of
/// new successes, never per attempt.
/// </summary>
internal sealed class RecentSuccesses(int capacity, TimeSpan lifetime)
{
    private readonly ConcurrentDictionary<(IPAddress Network, string Key), DateTimeOffset> _at = new();
    private readonly Lock _evicting = new();

    public int Count => _at.Count;

    public bool Contains(IPAddress network, string key, DateTimeOffset now) =>
        _at.TryGetValue((network, key), out var at) && now - at < lifetime;

    public void Add(IPAddress network, string key, DateTimeOffset now)
    {
        _at[(network, key)] = now;
        if (_at.Count > capacity)
        {
            Evict(now);
        }
    }

    private void Evict(DateTimeOffset now)
    {
        lock (_evicting)
        {
            if (_at.Count <= capacity)
            {
                return;
            }
            var keep = capacity / 2;
            var byAge = _at.ToArray();
            Array.Sort(byAge, (a, b) => b.Value.CompareTo(a.Value));
            for (var i = 0; i < byAge.Length; i++)
            {
                if (i >= keep || now - byAge[i].Value >= lifetime)
                {
                    _at.TryRemove(byAge[i]);
                }
            }
        }
    }
}
