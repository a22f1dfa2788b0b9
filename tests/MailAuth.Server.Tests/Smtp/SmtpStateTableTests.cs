using MailAuth.Server.Smtp;

namespace MailAuth.Server.Tests.Smtp;

[TestFixture]
public sealed class SmtpStateTableTests
{
    [TestCase("Connected", "EHLO")]
    [TestCase("Recipients", "EHLO")]
    [TestCase("Connected", "NOOP")]
    [TestCase("Recipients", "RSET")]
    [TestCase("MailFrom", "QUIT")]
    [TestCase("Greeted", "VRFY")]
    [TestCase("Greeted", "STARTTLS")]
    [TestCase("Greeted", "AUTH")]
    [TestCase("Authenticated", "MAIL")]
    [TestCase("MailFrom", "RCPT")]
    [TestCase("Recipients", "RCPT")]
    [TestCase("Recipients", "DATA")]
    public void Allows(string state, string verb)
    {
        Assert.That(SmtpStateTable.Refusal(Enum.Parse<SmtpState>(state), verb), Is.Null);
    }

    [TestCase("Connected", "MAIL", "503 5.5.1 Send EHLO first")]
    [TestCase("Connected", "AUTH", "503 5.5.1 Send EHLO first")]
    [TestCase("Connected", "STARTTLS", "503 5.5.1 Send EHLO first")]
    [TestCase("Greeted", "MAIL", "530 5.7.0 Authentication required")]
    [TestCase("Greeted", "RCPT", "530 5.7.0 Authentication required")]
    [TestCase("Greeted", "DATA", "530 5.7.0 Authentication required")]
    [TestCase("Authenticated", "AUTH", "503 5.5.1 Already authenticated")]
    [TestCase("Authenticated", "STARTTLS", "503 5.5.1 STARTTLS is not allowed after authentication")]
    [TestCase("Authenticated", "RCPT", "503 5.5.1 Need MAIL before RCPT")]
    [TestCase("Authenticated", "DATA", "503 5.5.1 Need RCPT before DATA")]
    [TestCase("MailFrom", "MAIL", "503 5.5.1 Nested MAIL command")]
    [TestCase("MailFrom", "AUTH", "503 5.5.1 AUTH is not allowed during a mail transaction")]
    [TestCase("MailFrom", "DATA", "554 5.5.1 No valid recipients")]
    [TestCase("Recipients", "MAIL", "503 5.5.1 Nested MAIL command")]
    [TestCase("Connected", "BDAT", "503 5.5.1 Bad sequence of commands")]
    public void Refuses(string state, string verb, string reply)
    {
        Assert.That(SmtpStateTable.Refusal(Enum.Parse<SmtpState>(state), verb), Is.EqualTo(reply));
    }

    [TestCase("Connected", "Greeted", "Greeted")]
    [TestCase("Greeted", "Greeted", "Greeted")]
    [TestCase("Authenticated", "Greeted", "Authenticated")]
    [TestCase("MailFrom", "Greeted", "Authenticated")]
    [TestCase("Recipients", "Greeted", "Authenticated")]
    [TestCase("Greeted", "TlsStarted", "Connected")]
    [TestCase("Greeted", "LoggedIn", "Authenticated")]
    [TestCase("Authenticated", "SenderAccepted", "MailFrom")]
    [TestCase("MailFrom", "RecipientAccepted", "Recipients")]
    [TestCase("Recipients", "RecipientAccepted", "Recipients")]
    [TestCase("MailFrom", "TransactionEnded", "Authenticated")]
    [TestCase("Recipients", "TransactionEnded", "Authenticated")]
    [TestCase("Authenticated", "TransactionEnded", "Authenticated")]
    [TestCase("Greeted", "TransactionEnded", "Greeted")]
    [TestCase("Connected", "TransactionEnded", "Connected")]
    public void Transitions(string state, string happened, string next)
    {
        Assert.That(SmtpStateTable.Next(Enum.Parse<SmtpState>(state), Enum.Parse<SmtpEvent>(happened)), Is.EqualTo(Enum.Parse<SmtpState>(next)));
    }

    [TestCase("Connected", "LoggedIn")]
    [TestCase("Authenticated", "LoggedIn")]
    [TestCase("Greeted", "SenderAccepted")]
    [TestCase("MailFrom", "SenderAccepted")]
    [TestCase("Authenticated", "RecipientAccepted")]
    [TestCase("Authenticated", "TlsStarted")]
    public void DeclaresNoTransitionTheRefusalsPrevent(string state, string happened)
    {
        Assert.That(() => SmtpStateTable.Next(Enum.Parse<SmtpState>(state), Enum.Parse<SmtpEvent>(happened)), Throws.InvalidOperationException);
    }

    [TestCase("EHLO", "Greeted")]
    [TestCase("HELO", "Greeted")]
    [TestCase("STARTTLS", "TlsStarted")]
    [TestCase("AUTH", "LoggedIn")]
    [TestCase("MAIL", "SenderAccepted")]
    [TestCase("RCPT", "RecipientAccepted")]
    [TestCase("DATA", "TransactionEnded")]
    [TestCase("RSET", "TransactionEnded")]
    public void EveryStateAVerbMayRunInHasItsTransition(string verb, string happened)
    {
        foreach (var state in Enum.GetValues<SmtpState>().Where(state => SmtpStateTable.Refusal(state, verb) is null))
        {
            Assert.That(() => SmtpStateTable.Next(state, Enum.Parse<SmtpEvent>(happened)), Throws.Nothing, $"{verb} in {state}");
        }
    }
}
