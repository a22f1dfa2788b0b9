using System.Text;
using MailAuth.Server.Imap.Parsing;
using MailAuth.Server.Maildir;

namespace MailAuth.Server.Imap.Commands;

/// <summary>LIST and LSUB (§6.3.8, §6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes.</summary>
internal sealed class ListCommand(bool subscribedOnly) : IImapCommand
{
    public string Name => subscribedOnly ? "LSUB" : "LIST";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        arguments.ExpectSpace();
        var reference = arguments.ReadAString();
        arguments.ExpectSpace();
        var pattern = arguments.ReadListMailbox();
        arguments.ExpectEnd();
        if (reference.Length + pattern.Length > ListPattern.MaxLength)
        {
            throw new ImapSyntaxException($"reference and mailbox pattern longer than {ListPattern.MaxLength} characters together");
        }
        var store = session.RequireStore();
        var output = new StringBuilder();
        if (pattern.Length == 0 && !subscribedOnly)
        {
            // LIST "" "": the hierarchy delimiter and root (§6.3.8).
            output.Append($"* LIST (\\Noselect) \"{MaildirStore.Delimiter}\" \"\"\r\n");
        }
        else
        {
            var matcher = Matcher(reference + pattern);
            var subscriptions = subscribedOnly ? store.Subscriptions() : null;
            foreach (var folder in store.List())
            {
                if (!matcher(folder.Name) || (subscriptions is not null && !subscriptions.Contains(folder.Name)))
                {
                    continue;
                }
                var attributes = new List<string>();
                if (!folder.Selectable)
                {
                    attributes.Add(@"\Noselect");
                }
                attributes.Add(folder.HasChildren ? @"\HasChildren" : @"\HasNoChildren");
                if (folder.SpecialUse is { } use)
                {
                    attributes.Add(use);
                }
                output.Append($"* {Name} ({string.Join(' ', attributes)}) \"{MaildirStore.Delimiter}\" {ImapFormat.AString(folder.Name)}\r\n");
            }
        }
        session.Write(output.ToString());
        session.Tagged(tag, ImapStatus.Ok, $"{Name} completed");
        return Task.CompletedTask;
    }

    /// <summary>The matcher of a LIST or LSUB pattern (<see cref="ListPattern"/>).</summary>
    public static Func<string, bool> Matcher(string pattern) => new ListPattern(pattern).Matches;
}
