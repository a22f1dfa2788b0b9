using System.Text;

namespace MailAuth.Server.Maildir;

/// <summary>A folder as LIST shows it.</summary>
internal sealed record FolderInfo(string Name, bool HasChildren, string? SpecialUse, bool Selectable);

/// <summary>
/// One mailbox's mail: the Maildir at its root is INBOX, and each other folder is a Maildir++
/// sub-directory named "." + the folder name, with "." as the hierarchy delimiter
/// (<c>Archive.2024</c> lives in <c>.Archive.2024/</c>), so the layout is what Dovecot, Courier
/// and every Maildir++ tool expect. Folder names are kept as the client sends them
/// (modified UTF-7, RFC 3501 §5.1.3).
/// </summary>
internal sealed class MaildirStore(string root, MaildirFolders folders)
{
    public const char Delimiter = '.';
    public const string Inbox = "INBOX";
    private const string SubscriptionsFile = "subscriptions";
    private const string InitializedMarker = "mailauth-initialized";

    /// <summary>RFC 6154 special-use folders every new mailbox starts with.</summary>
    public static readonly IReadOnlyDictionary<string, string> SpecialFolders = new Dictionary<string, string>
    {
        ["Drafts"] = @"\Drafts",
        ["Sent"] = @"\Sent",
        ["Junk"] = @"\Junk",
        ["Trash"] = @"\Trash",
        // Without it, Thunderbird's Archive button moves mail to Local Folders and leaves the server copy \Deleted.
        ["Archive"] = @"\Archive",
    };

    /// <summary>What an empty marker (written before Archive existed) stands for.</summary>
    private static readonly string[] FirstSpecialFolders = ["Drafts", "Sent", "Junk", "Trash"];

    private readonly Lock _mailboxGate = folders.MailboxGate(root);

    /// <summary>Where this store's folder-list and subscription changes are announced to the other sessions (NOTIFY).</summary>
    public MailboxSignal Signal { get; } = folders.Signal(root);

    public string Root { get; } = root;

    /// <summary>
    /// Creates INBOX and, once each, the special-use folders (subscribed); a user may delete them
    /// later. The marker file lists the ones given, so that a folder added in a later version
    /// (Archive) is given to an existing mailbox at its next login, and one deleted is not recreated.
    /// </summary>
    public void EnsureCreated()
    {
        MaildirDelivery.EnsureMaildir(Root);
        RemoveStaleTemporaryFiles();
        var marker = Path.Combine(Root, InitializedMarker);
        if (MissingSpecialFolders(marker).Count == 0)
        {
            return;
        }
        // A client's first connections often log in together (Thunderbird opens several at once).
        lock (_mailboxGate)
        {
            var missing = MissingSpecialFolders(marker);
            if (missing.Count == 0)
            {
                return;
            }
            foreach (var name in missing)
            {
                var existed = Exists(name);
                MaildirDirectories.CreateFolder(PathOf(name));
                if (!existed && File.Exists(marker))
                {
                    Signal.Record(MailboxEventKind.Created, name, null, this);
                }
            }
            ChangeSubscriptions(current =>
            {
                var before = current.Count;
                current.UnionWith([Inbox, .. missing]);
                return current.Count != before;
            });
            var temporary = marker + ".tmp";
            File.WriteAllLines(temporary, SpecialFolders.Keys);
            File.Move(temporary, marker, overwrite: true);
        }
    }

    private static List<string> MissingSpecialFolders(string marker)
    {
        if (!File.Exists(marker))
        {
            return [.. SpecialFolders.Keys];
        }
        var lines = File.ReadAllLines(marker);
        var given = lines.Length == 0 ? FirstSpecialFolders : lines;
        return [.. SpecialFolders.Keys.Except(given, StringComparer.Ordinal)];
    }

    /// <summary>The Maildir convention: a file left in tmp/ for 36 hours is debris of an interrupted write.</summary>
    private void RemoveStaleTemporaryFiles()
    {
        var cutoff = DateTime.UtcNow - TimeSpan.FromHours(36);
        foreach (var file in new DirectoryInfo(Path.Combine(Root, "tmp")).EnumerateFiles())
        {
            if (file.LastAccessTimeUtc < cutoff && file.LastWriteTimeUtc < cutoff)
            {
                file.Delete();
            }
        }
    }

    public string PathOf(string name) =>
        name == Inbox ? Root
        : IsValid(name) ? Path.Combine(Root, "." + name)
        : throw new ArgumentException($"invalid folder name '{name}'", nameof(name));

    /// <summary>INBOX or a name <see cref="CheckName"/> accepts: "../x" or "a/b" never name a directory.</summary>
    public static bool IsValid(string name) => name == Inbox || CheckName(name) is null;

    public bool Exists(string name) => IsValid(name) && (name == Inbox || Directory.Exists(Path.Combine(PathOf(name), "cur")));

    /// <summary>The shared state of an existing folder, or null.</summary>
    public MaildirFolder? Open(string name) => Exists(name) ? folders.Get(PathOf(name)) : null;

    public List<FolderInfo> List()
    {
        var names = new List<string> { Inbox };
        foreach (var directory in new DirectoryInfo(Root).EnumerateDirectories().Where(d => d.Name.StartsWith('.')))
        {
            var name = directory.Name[1..];
            if (name.Length > 0 && name != "." && Directory.Exists(Path.Combine(directory.FullName, "cur")))
            {
                names.Add(name);
            }
        }
        var all = names.ToHashSet(StringComparer.Ordinal);
        // A parent that is not itself a folder (".a.b" without ".a") shows as \Noselect.
        foreach (var name in names.ToList())
        {
            var pieces = name.Split(Delimiter);
            for (var i = 1; i < pieces.Length; i++)
            {
                var parent = string.Join(Delimiter, pieces[..i]);
                if (all.Add(parent))
                {
                    names.Add(parent);
                }
            }
        }
        return [.. names.Select(name => new FolderInfo(
            name,
            all.Any(other => other.StartsWith(name + Delimiter, StringComparison.Ordinal)),
            SpecialFolders.TryGetValue(name, out var use) ? use : null,
            Exists(name)))
            .OrderBy(f => f.Name == Inbox ? 0 : 1)
            .ThenBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>Why a name cannot be a folder, or null when it can.</summary>
    public static string? CheckName(string name)
    {
        if (name.Length is 0 or > 200)
        {
            return "folder names must have 1 to 200 characters";
        }
        if (name.Equals(Inbox, StringComparison.OrdinalIgnoreCase))
        {
            return "INBOX always exists";
        }
        if (name.Any(c => c is '/' or '\\' or '%' or '*' || char.IsControl(c)))
        {
            return "folder names cannot contain / \\ % * or control characters";
        }
        if (name[0] == Delimiter || name[^1] == Delimiter || name.Contains("..", StringComparison.Ordinal))
        {
            return "empty hierarchy level in the folder name";
        }
        return Encoding.UTF8.GetByteCount(name) > 240 ? "folder name too long" : null;
    }

    /// <summary>
    /// Creates the folder and any missing parent folders (RFC 3501 §6.3.3), never the mailbox
    /// root: <see cref="DirectoryNotFoundException"/> when the mailbox directory is gone.
    /// </summary>
    public void Create(string name)
    {
        var pieces = name.Split(Delimiter);
        for (var i = 1; i <= pieces.Length; i++)
        {
            var level = string.Join(Delimiter, pieces[..i]);
            var existed = Exists(level);
            MaildirDirectories.CreateFolder(PathOf(level));
            if (!existed)
            {
                Signal.Record(MailboxEventKind.Created, level, null, this);
            }
        }
    }

    public bool HasChildren(string name) => SubFolderDirectories(name).Any();

    /// <summary>The directories of a folder's descendants (compared by prefix: a file-system pattern would treat ? and "x.*" specially).</summary>
    private IEnumerable<DirectoryInfo> SubFolderDirectories(string name)
    {
        var prefix = "." + name + Delimiter;
        return new DirectoryInfo(Root).EnumerateDirectories().Where(d => d.Name.StartsWith(prefix, StringComparison.Ordinal) && d.Name.Length > prefix.Length);
    }

    /// <summary>Deletes a folder; its subscription stays (RFC 3501 §6.3.9: the server never drops one on its own).</summary>
    public void Delete(string name)
    {
        var path = PathOf(name);
        var forgotten = folders.Forget(path);
        Directory.Delete(path, recursive: true);
        forgotten.ForEach(folder => folder.Delivered());
        Signal.Record(MailboxEventKind.Deleted, name, null, this);
    }

    /// <summary>Renames a folder and its sub-folders; the UID list moves with them, so UIDs stay valid.</summary>
    public void Rename(string from, string to)
    {
        var prefix = "." + from + Delimiter;
        var children = SubFolderDirectories(from).ToList();
        var parent = to.LastIndexOf(Delimiter);
        if (parent > 0)
        {
            Create(to[..parent]);
        }
        var forgotten = folders.Forget(PathOf(from));
        Directory.Move(PathOf(from), PathOf(to));
        forgotten.ForEach(folder => folder.Delivered());
        Signal.Record(MailboxEventKind.Renamed, to, from, this);
        foreach (var child in children)
        {
            var rest = child.Name[prefix.Length..];
            Directory.Move(child.FullName, Path.Combine(Root, "." + to + Delimiter + rest));
            Signal.Record(MailboxEventKind.Renamed, to + Delimiter + rest, from + Delimiter + rest, this);
        }
    }

    public HashSet<string> Subscriptions()
    {
        lock (_mailboxGate)
        {
            var path = Path.Combine(Root, SubscriptionsFile);
            return File.Exists(path)
                ? File.ReadAllLines(path, Encoding.UTF8).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal)
                : [];
        }
    }

    public void Subscribe(string name, bool subscribed)
    {
        if (ChangeSubscriptions(current => subscribed ? current.Add(name) : current.Remove(name)))
        {
            Signal.Record(subscribed ? MailboxEventKind.Subscribed : MailboxEventKind.Unsubscribed, name, null, this);
        }
    }

    /// <summary>Rewrites the subscriptions file when <paramref name="change"/> says it changed the set; true when it did.</summary>
    private bool ChangeSubscriptions(Func<HashSet<string>, bool> change)
    {
        lock (_mailboxGate)
        {
            var current = Subscriptions();
            if (!change(current))
            {
                return false;
            }
            var path = Path.Combine(Root, SubscriptionsFile);
            File.WriteAllLines(path + ".tmp", current.Order(StringComparer.Ordinal), new UTF8Encoding(false));
            File.Move(path + ".tmp", path, overwrite: true);
            return true;
        }
    }
}
