using System.Globalization;
using System.Text;

namespace MailAuth.Server.Imap.Sorting;

/// <summary>What threading needs of one message: its place in the view, ids, sent date and base subject.</summary>
internal sealed record ThreadMessage(
    int Index, string? MessageId, IReadOnlyList<string> References, DateTimeOffset Sent, string BaseSubject, bool IsReplyOrForward);

/// <summary>A node of a thread tree: a message, or a dummy standing for a message that is referred to but not present.</summary>
internal sealed class ThreadNode(ThreadMessage? message)
{
    public ThreadMessage? Message { get; set; } = message;

    public ThreadNode? Parent { get; set; }

    public List<ThreadNode> Children { get; } = [];

    public bool IsDummy => Message is null;

    /// <summary>The message that dates the node: itself, or for a dummy its first child (RFC 5256 §2.2 steps 4 and 6).</summary>
    public ThreadMessage? DatingMessage => Message ?? (Children.Count > 0 ? Children[0].DatingMessage : null);

    /// <summary>Orders by sent date, then by place in the mailbox (RFC 5256 §2.2).</summary>
    public static int CompareByDate(ThreadNode a, ThreadNode b)
    {
        var x = a.DatingMessage;
        var y = b.DatingMessage;
        if (x is null || y is null)
        {
            return (x is null).CompareTo(y is null);
        }
        var order = x.Sent.CompareTo(y.Sent);
        return order != 0 ? order : x.Index.CompareTo(y.Index);
    }

    public void AddChild(ThreadNode child)
    {
        child.Parent = this;
        Children.Add(child);
    }

    public void Detach()
    {
        Parent?.Children.Remove(this);
        Parent = null;
    }

    /// <summary>
    /// The THREAD response's threads (RFC 5256 §4): <c>(2)(3 6 (4 23)(44 7 96))</c>, each number
    /// given by <paramref name="number"/> from a message's index.
    /// </summary>
    public static string Format(IEnumerable<ThreadNode> roots, Func<int, uint> number)
    {
        var builder = new StringBuilder();
        foreach (var root in roots)
        {
            builder.Append('(');
            AppendMembers(builder, root, number);
            builder.Append(')');
        }
        return builder.ToString();
    }

    private static void AppendMembers(StringBuilder builder, ThreadNode node, Func<int, uint> number)
    {
        // A chain of single children is written flat; iterating keeps deep chains off the stack.
        var current = node;
        var written = false;
        while (true)
        {
            if (current.Message is { } message)
            {
                if (written)
                {
                    builder.Append(' ');
                }
                builder.Append(number(message.Index).ToString(CultureInfo.InvariantCulture));
                written = true;
            }
            if (current.Children.Count == 1)
            {
                current = current.Children[0];
                continue;
            }
            if (current.Children.Count > 1)
            {
                if (written)
                {
                    builder.Append(' ');
                }
                foreach (var child in current.Children)
                {
                    builder.Append('(');
                    AppendMembers(builder, child, number);
                    builder.Append(')');
                }
            }
            return;
        }
    }
}
