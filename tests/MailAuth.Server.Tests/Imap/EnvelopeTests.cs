using System.Text;

namespace MailAuth.Server.Tests.Imap;

/// <summary>FETCH ENVELOPE transcripts (RFC 3501 §7.4.2): groups, routes, comments, empty fields.</summary>
[TestFixture]
public sealed class EnvelopeTests
{
    private const string Password = "envelope-pass 5";
    private RunningServer _server = null!;
    private int _next;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _server = await RunningServer.StartAsync();
        Assert.That((await _server.Cli.RunAsync("domain", "add", "family.example")).ExitCode, Is.Zero);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private async Task<List<string>> FetchEnvelope(string headers)
    {
        var address = $"envelope{Interlocked.Increment(ref _next)}@family.example";
        Assert.That((await _server.Cli.RunWithInputAsync(Password + "\n", "mailbox", "add", address)).ExitCode, Is.Zero);
        await ExternalClient.DeliverAsync(_server, address, Encoding.UTF8.GetBytes(headers.ReplaceLineEndings("\r\n") + "\r\nbody\r\n"));
        await using var client = await ImapTestClient.ConnectAsync(_server);
        Assert.That((await client.CommandAsync("l", $"LOGIN {address} \"{Password}\""))[^1], Does.StartWith("l OK"));
        Assert.That((await client.CommandAsync("s", "SELECT INBOX"))[^1], Does.StartWith("s OK"));
        return await client.CommandAsync("f", "FETCH 1 ENVELOPE");
    }

    /// <summary>RFC 3501 §7.4.2's example (its spaces between addresses are an erratum: address lists have none).</summary>
    [Test]
    public async Task TheRfcExample()
    {
        var lines = await FetchEnvelope("""
            Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
            From: Terry Gray <gray@cac.washington.edu>
            Subject: IMAP4rev1 WG mtg summary and minutes
            To: imap@cac.washington.edu
            cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
            Message-Id: <B27397-0100000@cac.washington.edu>

            """);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "* 1 FETCH (ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" " +
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " +
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) " +
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL " +
            "\"<B27397-0100000@cac.washington.edu>\"))",
            "f OK FETCH completed",
        }));
    }

    [Test]
    public async Task GroupsAreMarkedByNameAndEnd()
    {
        var lines = await FetchEnvelope("""
            From: user@domain (Real Name)
            To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;
            Cc: group:;, group2: (foo) ;
            Bcc: undisclosed-recipients:;

            """);
        Assert.That(lines[0], Is.EqualTo(
            "* 1 FETCH (ENVELOPE (NIL NIL ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) " +
            "((NIL NIL \"group\" NIL)(NIL NIL \"g1\" \"d1.org\")(NIL NIL \"g2\" \"d2.org\")(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL \"g3\" \"d3.org\")(NIL NIL NIL NIL)) " +
            "((NIL NIL \"group\" NIL)(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL)) " +
            "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL))"));
    }

    [Test]
    public async Task AnEmptySenderOrReplyToIsFrom()
    {
        var lines = await FetchEnvelope("From: \"Anna B.\" <anna@family.example>\nSender: \nReply-To:   (nobody)\n");
        Assert.That(lines[0], Is.EqualTo(
            "* 1 FETCH (ENVELOPE (NIL NIL ((\"Anna B.\" NIL \"anna\" \"family.example\")) ((\"Anna B.\" NIL \"anna\" \"family.example\")) " +
            "((\"Anna B.\" NIL \"anna\" \"family.example\")) NIL NIL NIL NIL NIL))"));
    }

    [Test]
    public async Task SourceRoutesAndCommentsInsideAnAddress()
    {
        var lines = await FetchEnvelope("From: <@route:user@domain>\nTo: <user-to (comment)@ (comment) domain.org>, \"quoted \\\"name\\\"\" <\"john doe\"@x.example>\n");
        Assert.That(lines[0], Is.EqualTo(
            "* 1 FETCH (ENVELOPE (NIL NIL ((NIL \"@route\" \"user\" \"domain\")) ((NIL \"@route\" \"user\" \"domain\")) ((NIL \"@route\" \"user\" \"domain\")) " +
            "((NIL NIL \"user-to\" \"domain.org\")(\"quoted \\\"name\\\"\" NIL \"john doe\" \"x.example\")) NIL NIL NIL NIL))"));
    }
}
