using System.Text;
using MailAuth.Server.Sasl;

namespace MailAuth.Server.Tests.Sasl;

[TestFixture]
public sealed class SaslConversationTests
{
    [TestCase("*", "Cancelled", "")]
    [TestCase("=", "Response", "")]
    [TestCase("", "Response", "")]
    [TestCase("dXNlcg==", "Response", "user")]
    [TestCase("AGp1bGllAHB3", "Response", "\0julie\0pw")]
    [TestCase("dXNlcg", "Malformed", "")]
    [TestCase("dXNl cg==", "Malformed", "")]
    [TestCase("dXNlcg==\t", "Malformed", "")]
    [TestCase("!!!!", "Malformed", "")]
    [TestCase("dXNlcg==dXNlcg==", "Malformed", "")]
    public void DecodesStrictly(string line, string kind, string data)
    {
        var reply = SaslConversation.Decode(Encoding.ASCII.GetBytes(line));
        Assert.That(reply.Kind, Is.EqualTo(Enum.Parse<SaslReplyKind>(kind)));
        Assert.That(Encoding.UTF8.GetString(reply.Data), Is.EqualTo(data));
    }

    [Test]
    public async Task LoginTakesTwoRounds()
    {
        var answers = new Queue<string>(["julie@family.example", "123-Abc"]);
        var prompts = new List<string>();
        var outcome = await SaslConversation.RunAsync(SaslMechanism.Create("LOGIN")!, null, (challenge, _) =>
        {
            prompts.Add(Encoding.ASCII.GetString(challenge));
            return ValueTask.FromResult(new SaslReply(SaslReplyKind.Response, Encoding.UTF8.GetBytes(answers.Dequeue())));
        }, default);
        Assert.That(prompts, Is.EqualTo(new[] { "Username:", "Password:" }));
        Assert.That(outcome, Is.EqualTo(new SaslOutcome(SaslOutcomeKind.Credentials, new SaslCredentials("julie@family.example", "123-Abc"), null)));
    }

    [TestCase("Cancelled", "Cancelled")]
    [TestCase("Malformed", "Malformed")]
    [TestCase("Disconnected", "Disconnected")]
    [TestCase("LineTooLong", "LineTooLong")]
    public async Task ClientRepliesEndTheExchange(string reply, string expected)
    {
        var outcome = await SaslConversation.RunAsync(SaslMechanism.Create("PLAIN")!, null,
            (_, _) => ValueTask.FromResult(new SaslReply(Enum.Parse<SaslReplyKind>(reply), [])), default);
        Assert.That(outcome.Kind, Is.EqualTo(Enum.Parse<SaslOutcomeKind>(expected)));
    }

    [Test]
    public async Task MalformedInitialResponseNeedsNoRoundTrip()
    {
        var outcome = await SaslConversation.RunAsync(SaslMechanism.Create("PLAIN")!, Encoding.UTF8.GetBytes("no-nuls"),
            (_, _) => throw new AssertionException("no challenge expected"), default);
        Assert.That(outcome.Kind, Is.EqualTo(SaslOutcomeKind.Malformed));
        Assert.That(outcome.Malformation!.Reason, Is.EqualTo(SaslMalformedReason.RefusedByMechanism));
        Assert.That(outcome.Malformation.Description, Is.EqualTo("the PLAIN response must be authzid NUL authcid NUL password"));
    }

    [Test]
    public async Task BadBase64InAReplyIsATypedMalformation()
    {
        var outcome = await SaslConversation.RunAsync(SaslMechanism.Create("PLAIN")!, null,
            (_, _) => ValueTask.FromResult(new SaslReply(SaslReplyKind.Malformed, [])), default);
        Assert.That(outcome.Malformation, Is.EqualTo(SaslMalformation.ResponseNotBase64));
        Assert.That(outcome.Malformation!.Description, Is.EqualTo("invalid base64"));
    }

    [Test]
    public async Task AClientThatNeverFinishesIsStoppedAfterTheRoundLimit()
    {
        var rounds = 0;
        var outcome = await SaslConversation.RunAsync(new EndlessMechanism(), null, (_, _) =>
        {
            rounds++;
            return ValueTask.FromResult(new SaslReply(SaslReplyKind.Response, []));
        }, default);
        Assert.That(outcome.Malformation, Is.EqualTo(SaslMalformation.TooManyRounds));
        Assert.That(rounds, Is.EqualTo(5));
    }

    private sealed class EndlessMechanism : SaslMechanism
    {
        public override string Name => "ENDLESS";

        public override SaslStep Step(byte[]? response) => SaslStep.Ask("more");
    }
}
