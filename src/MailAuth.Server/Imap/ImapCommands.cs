using System.Collections.Frozen;
using MailAuth.Server.Imap.Commands;
using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap;

/// <summary>One IMAP command. Handlers are stateless singletons; the session carries the state.</summary>
internal interface IImapCommand
{
    /// <summary>The verb, "UID FETCH" style for UID commands.</summary>
    string Name { get; }

    /// <summary>
    /// RFC 3501 §7.4.1: no EXPUNGE response while a FETCH, STORE or SEARCH runs, since the client
    /// may still be relying on sequence numbers; UID versions and other commands may announce them.
    /// </summary>
    bool AllowsExpungeUpdates => true;

    /// <summary>False for commands that report changes themselves or end the selection (IDLE, CLOSE, LOGOUT).</summary>
    bool SendsUpdatesAfter => true;

    /// <summary>Parses the arguments from <paramref name="arguments"/> (after the verb) and answers with the tagged response.</summary>
    Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken);
}

/// <summary>The verb → handler map.</summary>
internal sealed class ImapCommands
{
    private readonly FrozenDictionary<string, IImapCommand> _handlers;

    public ImapCommands(IEnumerable<IImapCommand> handlers) =>
        _handlers = handlers.ToFrozenDictionary(h => h.Name, StringComparer.Ordinal);

    public IImapCommand? Find(string name) => _handlers.GetValueOrDefault(name);

    public IReadOnlyList<string> Names => _handlers.Keys;

    public static ImapCommands CreateDefault() => new(
    [
        new CapabilityCommand(), new NoopCommand(), new LogoutCommand(), new IdCommand(),
        new StartTlsCommand(), new LoginCommand(), new AuthenticateCommand(),
        new SelectCommand(readOnly: false), new SelectCommand(readOnly: true),
        new CreateCommand(), new DeleteCommand(), new RenameCommand(),
        new SubscribeCommand(subscribe: true), new SubscribeCommand(subscribe: false),
        new ListCommand(subscribedOnly: false), new ListCommand(subscribedOnly: true),
        new StatusCommand(), new AppendCommand(), new NamespaceCommand(), new EnableCommand(), new IdleCommand(), new NotifyCommand(),
        new CheckCommand(), new CloseCommand(), new UnselectCommand(),
        new ExpungeCommand(byUid: false), new ExpungeCommand(byUid: true),
        new SearchCommand(byUid: false), new SearchCommand(byUid: true),
        new SortCommand(byUid: false), new SortCommand(byUid: true), new ThreadCommand(byUid: false), new ThreadCommand(byUid: true), new CancelUpdateCommand(),
        new FetchCommand(byUid: false), new FetchCommand(byUid: true),
        new StoreCommand(byUid: false), new StoreCommand(byUid: true),
        new CopyCommand(byUid: false, move: false), new CopyCommand(byUid: true, move: false),
        new CopyCommand(byUid: false, move: true), new CopyCommand(byUid: true, move: true),
        new GetQuotaRootCommand(), new GetQuotaCommand(), new SetQuotaCommand(),
    ]);
}
