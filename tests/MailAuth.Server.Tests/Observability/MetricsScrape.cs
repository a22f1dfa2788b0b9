using System.Globalization;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Observability;

/// <summary>One scrape of <c>/metrics</c>: the Prometheus text as served, and its samples by name and labels.</summary>
internal sealed partial class MetricsScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    private MetricsScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var match = Sample().Match(line);
            Assert.That(match.Success, Is.True, $"not a sample line: {line}");
            var labels = Label().Matches(match.Groups["labels"].Value).ToDictionary(label => label.Groups[1].Value, label => label.Groups[2].Value);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public static async Task<MetricsScrape> TakeAsync(HttpClient http, int port)
    {
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        return new MetricsScrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of the samples named <paramref name="name"/> that carry every label given; 0 when there is none.</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(sample => sample.Name == name && labels.All(label => sample.Labels.GetValueOrDefault(label.Name) == label.Value))
            .Sum(sample => sample.Value);

    /// <summary>Whether any sample is named <paramref name="name"/> (histograms: <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public bool Has(string name) => _samples.Any(sample => sample.Name == name);

    /// <summary>Every label name used by the samples of the <c>mailauth_</c> family.</summary>
    public IEnumerable<(string Metric, string Label, string Value)> MailAuthLabels() =>
        _samples.Where(sample => sample.Name.StartsWith("mailauth_", StringComparison.Ordinal))
            .SelectMany(sample => sample.Labels.Select(label => (sample.Name, label.Key, label.Value)));

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
