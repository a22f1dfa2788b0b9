namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// THREAD=ORDEREDSUBJECT (RFC 5256 §2.1 "poor man's threading"): messages sorted by base
/// subject, then sent date; each run of one subject is a thread whose first message is the
/// parent of the others; threads ordered by the sent date of their first message.
/// </summary>
internal static class OrderedSubjectThreader
{
    public static List<ThreadNode> Thread(IReadOnlyList<ThreadMessage> messages)
    {
        var sorted = messages.OrderBy(m => m.BaseSubject, StringComparer.Ordinal).ThenBy(m => m.Sent).ThenBy(m => m.Index).ToList();
        var threads = new List<ThreadNode>();
        ThreadNode? current = null;
        foreach (var message in sorted)
        {
            if (current is null || current.Message!.BaseSubject != message.BaseSubject)
            {
                current = new ThreadNode(message);
                threads.Add(current);
            }
            else
            {
                current.AddChild(new ThreadNode(message));
            }
        }
        threads.Sort(ThreadNode.CompareByDate);
        return threads;
    }
}
