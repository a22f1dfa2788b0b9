using System.Globalization;

namespace MailAuth.Server.Protocol;

/// <summary>
/// The users whose processes may connect to a listener that believes what its caller reports (the
/// mail client's address): root, the server's own user, and the configured users, else the
/// listener's default users that exist on this system. Root and the server's own user can read
/// the database and the server's memory anyway, so refusing them would protect nothing.
/// </summary>
internal sealed class AllowedCallers
{
    private readonly SortedDictionary<uint, string> _users;

    private AllowedCallers(SortedDictionary<uint, string> users) => _users = users;

    /// <summary>
    /// <paramref name="configured"/> (user names or numeric uids) when set, else those of
    /// <paramref name="defaults"/> that exist here. A configured name that does not exist throws
    /// <see cref="Hosting.ConfigurationException"/> naming <paramref name="key"/>.
    /// </summary>
    public static AllowedCallers Resolve(string key, IReadOnlyList<string>? configured, IEnumerable<string> defaults)
    {
        var users = new SortedDictionary<uint, string> { [0] = "root" };
        var own = UnixUsers.EffectiveUserId;
        users[own] = UnixUsers.NameOf(own) ?? "this server's user";
        if (configured is null)
        {
            foreach (var name in defaults)
            {
                if (UnixUsers.UserIdOf(name) is { } uid)
                {
                    users[uid] = name;
                }
            }
        }
        else
        {
            foreach (var entry in configured)
            {
                var uid = UserIdOf(entry) ?? throw new Hosting.ConfigurationException(Problem(key, entry));
                users[uid] = UnixUsers.NameOf(uid) ?? entry;
            }
        }
        return new AllowedCallers(users);
    }

    /// <summary>Each configured entry that names no user, as one sentence naming <paramref name="key"/>.</summary>
    public static IEnumerable<string> Validate(string key, IReadOnlyList<string>? configured) =>
        (configured ?? []).Where(entry => UserIdOf(entry) is null).Select(entry => Problem(key, entry));

    public bool Allows(uint userId) => _users.ContainsKey(userId);

    /// <summary>For the log: <c>0 (root), 102 (postfix)</c>.</summary>
    public override string ToString() =>
        string.Join(", ", _users.Select(user => $"{user.Key.ToString(CultureInfo.InvariantCulture)} ({user.Value})"));

    /// <summary>A numeric uid as it is (it may have no name), else a user name.</summary>
    private static uint? UserIdOf(string entry) =>
        uint.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : UnixUsers.UserIdOf(entry.Trim());

    private static string Problem(string key, string entry) =>
        $"{key}: there is no user '{entry}' on this system (a user name or a numeric uid)";
}
