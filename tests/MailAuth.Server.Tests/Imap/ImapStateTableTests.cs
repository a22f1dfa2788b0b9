using MailAuth.Server.Imap;

namespace MailAuth.Server.Tests.Imap;

[TestFixture]
public sealed class ImapStateTableTests
{
    private static readonly string[] States = ["NotAuthenticated", "Authenticated", "Selected", "Logout"];

    [TestCase("CAPABILITY", "NotAuthenticated,Authenticated,Selected")]
    [TestCase("NOOP", "NotAuthenticated,Authenticated,Selected")]
    [TestCase("LOGOUT", "NotAuthenticated,Authenticated,Selected")]
    [TestCase("ID", "NotAuthenticated,Authenticated,Selected")]
    [TestCase("STARTTLS", "NotAuthenticated")]
    [TestCase("LOGIN", "NotAuthenticated")]
    [TestCase("AUTHENTICATE", "NotAuthenticated")]
    [TestCase("SELECT", "Authenticated,Selected")]
    [TestCase("LIST", "Authenticated,Selected")]
    [TestCase("APPEND", "Authenticated,Selected")]
    [TestCase("IDLE", "Authenticated,Selected")]
    [TestCase("FETCH", "Selected")]
    [TestCase("UID FETCH", "Selected")]
    [TestCase("EXPUNGE", "Selected")]
    [TestCase("CLOSE", "Selected")]
    [TestCase("UID MOVE", "Selected")]
    [TestCase("UID THREAD", "Selected")]
    [TestCase("CANCELUPDATE", "Selected")]
    public void CommandsAreAllowedExactlyInTheirStates(string command, string allowed)
    {
        var states = States.Where(state => ImapStateTable.IsAllowed(Enum.Parse<ImapState>(state), command));
        Assert.That(string.Join(',', states), Is.EqualTo(allowed));
    }

    [Test]
    public void EveryAllowedCommandHasAHandlerAndEveryHandlerIsAllowedSomewhere()
    {
        var commands = ImapCommands.CreateDefault();
        foreach (var name in commands.Names)
        {
            Assert.That(States.Any(state => ImapStateTable.IsAllowed(Enum.Parse<ImapState>(state), name)), Is.True, name);
            Assert.That(commands.Find(name)!.Name, Is.EqualTo(name));
        }
        Assert.That(commands.Names, Has.Count.EqualTo(45));
    }
}
