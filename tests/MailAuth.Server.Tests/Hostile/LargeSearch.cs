using System.Text;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests.Hostile;

/// <summary>
/// The expensive SEARCH of finding 8: a 5 MiB message whose last line holds <see cref="Words"/>
/// words, searched with one TEXT key per word, so that every key scans the whole text.
/// </summary>
internal static class LargeSearch
{
    public const int Words = 400;

    /// <summary>Creates <paramref name="folder"/> for the logged-in <paramref name="client"/> and drops <paramref name="count"/> such messages into it.</summary>
    public static async Task CreateFolderAsync(ImapTestClient client, RunningServer server, string local, string folder, int count)
    {
        Assert.That((await client.CommandAsync("c", $"CREATE {folder}"))[^1], Is.EqualTo("c OK CREATE completed"));
        var directory = Path.Combine(server.Cli.DataDirectory, "mail", "family.example", local, "." + folder, "new");
        for (var i = 0; i < count; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(directory, $"1700000000.M{i}P1.large-search"), Message());
        }
    }

    /// <summary>One TEXT key per word, upper-cased (the message has them in lower case), and optionally one that matches nothing.</summary>
    public static string Keys(bool withAMiss = false, int words = Words) =>
        string.Join(' ', Enumerable.Range(1, words).Select(i => withAMiss && i == words ? "TEXT NOWHERE" : $"TEXT WORD{i:0000}"));

    private static byte[] Message()
    {
        var text = new StringBuilder("From: anna@family.example\r\nTo: julie@family.example\r\nSubject: large\r\n\r\n");
        const string Filler = "the quick brown fox jumps over the lazy dog, 0123456789\r\n";
        while (text.Length < 5 * 1024 * 1024)
        {
            text.Append(Filler);
        }
        text.AppendJoin(' ', Enumerable.Range(1, Words).Select(i => $"word{i:0000}")).Append("\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
