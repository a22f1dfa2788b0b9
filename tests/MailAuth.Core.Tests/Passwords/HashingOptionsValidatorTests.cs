using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class HashingOptionsValidatorTests
{
    [Test]
    public void ValidOptionsSucceed()
    {
        var result = new HashingOptionsValidator().Validate(null, new HashingOptions());
        Assert.That(result.Succeeded, Is.True);
    }

    [Test]
    public void InvalidOptionsFailWithEveryMessage()
    {
        var options = new HashingOptions { Iterations = 0, Parallelism = 2 };
        var result = new HashingOptionsValidator().Validate(null, options);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Failed, Is.True);
            Assert.That(result.Failures, Is.EqualTo(options.Validate()));
        }
    }
}
