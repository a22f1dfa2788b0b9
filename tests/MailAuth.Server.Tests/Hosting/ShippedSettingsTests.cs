using System.Text.Json;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace MailAuth.Server.Tests.Hosting;

/// <summary>
/// <c>config/appsettings.json</c> writes every default a second time, for operators to read and
/// override: it must say what the code does, and name no key the code does not know.
/// </summary>
[TestFixture]
public sealed class ShippedSettingsTests
{
    private static IConfigurationRoot Shipped() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, MailAuthConfiguration.DefaultFile), optional: false, reloadOnChange: false)
        .Build();

    [Test]
    public void EveryKeyInTheShippedFileIsAnOption()
    {
        var configuration = Shipped();
        Assert.That(configuration.GetChildren().Select(section => section.Key), Is.EquivalentTo(new[] { MailAuthOptions.Section, "Logging" }));
        Assert.That(
            () => configuration.GetSection(MailAuthOptions.Section).Bind(new MailAuthOptions(), binder => binder.ErrorOnUnknownConfiguration = true),
            Throws.Nothing);
    }

    [Test]
    public void EveryValueInTheShippedFileIsTheCodesDefault()
    {
        var bound = new MailAuthOptions();
        Shipped().GetSection(MailAuthOptions.Section).Bind(bound);
        Assert.That(JsonSerializer.Serialize(bound), Is.EqualTo(JsonSerializer.Serialize(new MailAuthOptions())));
    }

    [Test]
    public void AKeyTheCodeDoesNotKnowIsFound()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["MailAuth:Imap:IdlePollIntervalMs"] = "1000" })
            .Build();
        Assert.That(
            () => configuration.GetSection(MailAuthOptions.Section).Bind(new MailAuthOptions(), binder => binder.ErrorOnUnknownConfiguration = true),
            Throws.InvalidOperationException.With.Message.Contains("IdlePollIntervalMs"));
    }

    [Test]
    public void AValueThatDiffersFromTheDefaultIsSeen()
    {
        var changed = new MailAuthOptions();
        changed.Imap.IdlePollIntervalMilliseconds = 2000;
        Assert.That(JsonSerializer.Serialize(changed), Is.Not.EqualTo(JsonSerializer.Serialize(new MailAuthOptions())));
    }
}
