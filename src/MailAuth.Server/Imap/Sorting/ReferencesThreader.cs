namespace MailAuth.Server.Imap.Sorting;

/// <summary>
/// THREAD=REFERENCES (RFC 5256 §2.2, after Jamie Zawinski's algorithm): threads from
/// Message-ID, References and In-Reply-To, with dummies for referred-to messages that are not
/// there, roots of the same base subject merged, every set of siblings in sent-date order.
/// The trees are walked without recursion, so a long reply chain cannot exhaust the stack.
/// </summary>
internal static class ReferencesThreader
{
    /// <summary>Only the last this many references of a message are linked: the links cost a walk up the tree each.</summary>
    public const int MaxReferences = 1000;

    /// <summary>The threads of <paramref name="messages"/> (given in mailbox order), sorted.</summary>
    public static List<ThreadNode> Thread(IReadOnlyList<ThreadMessage> messages, SearchBudget budget)
    {
        var all = Link(messages, budget);
        // (2) the root set: everything without a parent, in the order the nodes were made.
        var roots = Prune(all.Where(n => n.Parent is null).ToList());
        // (4) the root set by date, a dummy dated by its earliest child.
        foreach (var root in roots.Where(r => r.IsDummy))
        {
            root.Children.Sort(ThreadNode.CompareByDate);
        }
        roots.Sort(ThreadNode.CompareByDate);
        roots = MergeBySubject(roots);
        SortSiblings(roots);
        return roots;
    }

    /// <summary>Step (1): a node per message and per referenced id, linked parent to child.</summary>
    private static List<ThreadNode> Link(IReadOnlyList<ThreadMessage> messages, SearchBudget budget)
    {
        var byId = new Dictionary<string, ThreadNode>(StringComparer.Ordinal);
        var all = new List<ThreadNode>();
        ThreadNode NodeFor(string id)
        {
            if (!byId.TryGetValue(id, out var node))
            {
                node = new ThreadNode(null);
                byId[id] = node;
                all.Add(node);
            }
            return node;
        }
        foreach (var message in messages)
        {
            budget.Check();
            // (1A) a message with no Message-ID, or one already taken, gets a node of its own.
            ThreadNode own;
            if (message.MessageId is { } id && NodeFor(id) is { IsDummy: true } found)
            {
                own = found;
                own.Message = message;
            }
            else
            {
                own = new ThreadNode(message);
                all.Add(own);
            }
            // (1B) the references, each the parent of the next, unless linked already or a loop.
            ThreadNode? previous = null;
            var references = message.References;
            for (var r = Math.Max(0, references.Count - MaxReferences); r < references.Count; r++)
            {
                var node = NodeFor(references[r]);
                if (previous is not null && node.Parent is null && !WouldLoop(previous, node))
                {
                    previous.AddChild(node);
                }
                previous = node;
            }
            // (1C) the last reference is the parent, whatever was presumed before; none if that makes a loop.
            own.Detach();
            if (previous is not null && !WouldLoop(previous, own))
            {
                previous.AddChild(own);
            }
        }
        return all;
    }

    /// <summary>True when making <paramref name="child"/> a child of <paramref name="parent"/> would close a loop.</summary>
    private static bool WouldLoop(ThreadNode parent, ThreadNode child)
    {
        if (child.Children.Count == 0)
        {
            return parent == child; // the usual case, and a long reply chain is not walked up for each message
        }
        for (var node = parent; node is not null; node = node.Parent)
        {
            if (node == child)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Step (3): a dummy without children goes; a dummy with children gives them to its own
    /// parent, except that at the root only a single child is promoted. Children first.
    /// </summary>
    private static List<ThreadNode> Prune(List<ThreadNode> roots)
    {
        foreach (var node in PostOrder(roots))
        {
            if (node.Children.Count == 0 || node.Children.TrueForAll(c => !c.IsDummy))
            {
                continue;
            }
            var kept = new List<ThreadNode>(node.Children.Count);
            foreach (var child in node.Children)
            {
                if (!child.IsDummy)
                {
                    kept.Add(child);
                    continue;
                }
                foreach (var grandchild in child.Children)
                {
                    grandchild.Parent = node;
                    kept.Add(grandchild);
                }
            }
            node.Children.Clear();
            node.Children.AddRange(kept);
        }
        var result = new List<ThreadNode>(roots.Count);
        foreach (var root in roots)
        {
            if (!root.IsDummy || root.Children.Count > 1)
            {
                result.Add(root);
            }
            else if (root.Children.Count == 1)
            {
                var child = root.Children[0];
                child.Parent = null;
                result.Add(child);
            }
        }
        return result;
    }

    /// <summary>Step (5): root threads with the same base subject gathered together.</summary>
    private static List<ThreadNode> MergeBySubject(List<ThreadNode> roots)
    {
        // (5B) one thread per subject: a dummy over a message, a non-reply over a reply.
        var table = new Dictionary<string, ThreadNode>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            if (Subject(root) is not { Length: > 0 } subject)
            {
                continue;
            }
            if (!table.TryGetValue(subject, out var entry))
            {
                table[subject] = root;
            }
            else if (!entry.IsDummy && (root.IsDummy || (entry.Message!.IsReplyOrForward && !root.Message!.IsReplyOrForward)))
            {
                table[subject] = root;
            }
        }
        // (5C) the others merged into it.
        var result = new List<ThreadNode>(roots);
        foreach (var root in roots)
        {
            if (Subject(root) is not { Length: > 0 } subject || table[subject] is var entry && entry == root)
            {
                continue;
            }
            result.Remove(root);
            if (entry.IsDummy && root.IsDummy)
            {
                foreach (var child in root.Children.ToList())
                {
                    entry.AddChild(child);
                }
            }
            else if (entry.IsDummy || (root.Message!.IsReplyOrForward && !entry.Message!.IsReplyOrForward))
            {
                entry.AddChild(root);
            }
            else
            {
                var dummy = new ThreadNode(null);
                result[result.IndexOf(entry)] = dummy;
                dummy.AddChild(entry);
                dummy.AddChild(root);
                table[subject] = dummy;
            }
        }
        return result;
    }

    /// <summary>A thread's subject: its message's, or a dummy's first child's (§2.2 step 5.B.i).</summary>
    private static string Subject(ThreadNode root) => (root.Message ?? root.Children[0].Message)?.BaseSubject ?? "";

    /// <summary>Step (6): every set of siblings by sent date, the deepest first, so a dummy is dated by its sorted children.</summary>
    private static void SortSiblings(List<ThreadNode> roots)
    {
        foreach (var node in PostOrder(roots))
        {
            node.Children.Sort(ThreadNode.CompareByDate);
        }
        roots.Sort(ThreadNode.CompareByDate);
    }

    /// <summary>Every node under <paramref name="roots"/>, children before their parent, without recursion.</summary>
    private static List<ThreadNode> PostOrder(List<ThreadNode> roots)
    {
        var order = new List<ThreadNode>();
        var stack = new Stack<ThreadNode>(roots);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            order.Add(node);
            foreach (var child in node.Children)
            {
                stack.Push(child);
            }
        }
        order.Reverse();
        return order;
    }
}
