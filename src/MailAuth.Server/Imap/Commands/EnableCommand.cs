using MailAuth.Server.Imap.Parsing;

namespace MailAuth.Server.Imap.Commands;

/// <summary>ENABLE (RFC 5161): answers <c>* ENABLED</c> with the extensions it turned on, unknown ones ignored.</summary>
internal sealed class EnableCommand : IImapCommand
{
    public string Name => "ENABLE";

    public Task ExecuteAsync(ImapSession session, string tag, ImapReader arguments, CancellationToken cancellationToken)
    {
        var enabled = new List<string>();
        do
        {
            arguments.ExpectSpace();
            var name = arguments.ReadAtom().ToUpperInvariant();
            // RFC 5161 §3.1: only what this command newly enabled is listed, each once.
            switch (name)
            {
                case "CONDSTORE" when !session.CondstoreEnabled:
                    session.EnableCondstore();
                    enabled.Add(name);
                    break;
                case "QRESYNC" when !session.QresyncEnabled:
                    session.EnableQresync();
                    enabled.Add(name);
                    break;
            }
        }
        while (!arguments.AtEnd);
        session.Write(enabled.Count == 0 ? "* ENABLED\r\n" : $"* ENABLED {string.Join(' ', enabled)}\r\n");
        session.Tagged(tag, ImapStatus.Ok, "ENABLE completed");
        return Task.CompletedTask;
    }
}
