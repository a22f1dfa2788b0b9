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
    }
}
