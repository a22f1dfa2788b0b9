using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using MailAuth.Server.Web;
using MailAuth.Server.Web.Api;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 16: <c>/api/v1/openapi.json</c> is written by hand, so this keeps it true: every API path
/// of the program is in it, and every operation it lists, called on a real server with a body built
/// from its schema (and with a body of the wrong type, broken JSON, too large), answers a status the
/// document lists, with a body its schema accepts.
/// </summary>
[TestFixture]
public sealed class OpenApiDocumentTests
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    /// <summary>Values for the fields the API reads: the test mailbox's, so that the success answers are reached too.</summary>
    private static readonly Dictionary<string, string> Known = new()
    {
        ["address"] = WebServer.Address,
        ["password"] = WebServer.Password,
        ["newPassword"] = "a new and longer one",
    };

    [Test]
    public async Task TheDocumentListsEveryApiPathAndEveryStatusAndBodyTheRealEndpointsAnswer()
    {
        await using var web = await WebServer.StartAsync();
        using var http = WebServer.Client();

        using (var plain = await http.GetAsync(web.Http(OpenApiDocument.Path)))
        {
            Assert.That(plain.StatusCode, Is.EqualTo(HttpStatusCode.PermanentRedirect));
            Assert.That(plain.Headers.Location?.Scheme, Is.EqualTo("https"));
        }
        using var served = await http.GetAsync(web.Https(OpenApiDocument.Path));
        Assert.That(served.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(served.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        using var document = JsonDocument.Parse(await served.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.That(root.GetProperty("openapi").GetString(), Is.EqualTo("3.1.0"));
        Assert.That(root.GetProperty("info").GetProperty("title").GetString(), Is.Not.Empty);
        Assert.That(root.GetProperty("info").GetProperty("version").GetString(), Is.Not.Empty);
        var paths = root.GetProperty("paths");

        var documented = paths.EnumerateObject().Select(path => path.Name).ToHashSet();
        Assert.That(documented, Is.EquivalentTo(ApiPathsOfTheProgram()));
        // Both ways: every route the program maps under /api/v1/ is documented with its method, and every documented operation is mapped.
        var operations = paths.EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)).Select(o => $"{o.Name.ToUpperInvariant()} {path.Name}"))
            .ToHashSet();
        Assert.That(operations, Is.EquivalentTo(ApiRoutes.All.Select(route => $"{route.Method} {route.Path}")));

        var calls = new List<string>();
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var responses = operation.Value.GetProperty("responses");
                var probes = new List<(string What, HttpContent? Content)>();
                if (operation.Value.TryGetProperty("requestBody", out var requestBody))
                {
                    var body = BodyFrom(root, Resolve(root, requestBody).GetProperty("content").GetProperty("application/json").GetProperty("schema"));
                    probes.Add(("text/plain", new StringContent(body, Encoding.UTF8, "text/plain")));
                    probes.Add(("broken JSON", new StringContent(body[..^1], Encoding.UTF8, "application/json")));
                    probes.Add(("too large", new StringContent(JsonSerializer.Serialize(new { address = new string('a', 20_000) }), Encoding.UTF8, "application/json")));
                    probes.Add(("from the schema", new StringContent(body, Encoding.UTF8, "application/json")));
                }
                else
                {
                    probes.Add(("without a body", null));
                }
                foreach (var (what, content) in probes)
                {
                    using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), web.Https(path.Name)) { Content = content };
                    using var response = await http.SendAsync(request);
                    var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var text = await response.Content.ReadAsStringAsync();
                    calls.Add($"{name} {what}: {status}");
                    Assert.That(responses.TryGetProperty(status, out var listed), Is.True, $"{name} ({what}) answered {status} {text}, not in the document");
                    var described = Resolve(root, listed);
                    Assert.That(described.GetProperty("description").GetString(), Is.Not.Empty);
                    if (described.TryGetProperty("content", out var answers))
                    {
                        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), $"{name} ({what})");
                        using var answer = JsonDocument.Parse(text);
                        var problems = new List<string>();
                        Check(root, answers.GetProperty("application/json").GetProperty("schema"), answer.RootElement, "$", problems);
                        Assert.That(problems, Is.Empty, $"{name} ({what}) answered {status} {text}");
                    }
                    else
                    {
                        Assert.That(text, Is.Empty, $"{name} ({what}) answered {status} with a body the document does not describe");
                    }
                }
            }
        }
        // The schema-built bodies reach the success answers (the test first, then the change), and the manager
        // calls without a session their 401 (the manager API's successes: ManagerApiTests, ManagerApiRecoveryTests).
        Assert.That(calls, Does.Contain("POST /api/v1/mailbox/test from the schema: 200")
            .And.Contain("POST /api/v1/mailbox/password from the schema: 200")
            .And.Contain("POST /api/v1/mailbox/test too large: 413")
            .And.Contain("POST /api/v1/account/forgot-password from the schema: 200")
            .And.Contain("POST /api/v1/account/forgot-login from the schema: 200")
            .And.Contain("POST /api/v1/account/login from the schema: 401")
            .And.Contain("GET /api/v1/account without a body: 401"), string.Join("\n", calls));
    }

    /// <summary>Every path constant of the program under <c>/api/v1/</c> (the paths WebEndpoints maps are these constants).</summary>
    private static HashSet<string> ApiPathsOfTheProgram() =>
        typeof(OpenApiDocument).Assembly.GetTypes()
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .Where(value => value.StartsWith("/api/v1/", StringComparison.Ordinal) && value != OpenApiDocument.Path)
            .ToHashSet();

    private static JsonElement Resolve(JsonElement root, JsonElement node)
    {
        while (node.ValueKind == JsonValueKind.Object && node.TryGetProperty("$ref", out var reference))
        {
            node = root;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                node = node.GetProperty(part);
            }
        }
        return node;
    }

    /// <summary>A JSON object with every required property of the schema: a known value, else the schema's first example.</summary>
    private static string BodyFrom(JsonElement root, JsonElement schema)
    {
        schema = Resolve(root, schema);
        var properties = schema.GetProperty("properties");
        var body = new Dictionary<string, string>();
        foreach (var required in schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()!))
        {
            var property = Resolve(root, properties.GetProperty(required));
            Assert.That(property.GetProperty("type").GetString(), Is.EqualTo("string"), required);
            body[required] = Known.TryGetValue(required, out var value) ? value
                : property.TryGetProperty("examples", out var examples) ? examples[0].GetString()! : "x";
        }
        return JsonSerializer.Serialize(body);
    }

    /// <summary>The JSON Schema keywords the document uses: $ref, allOf, type, required, properties, items, const, enum.</summary>
    private static void Check(JsonElement root, JsonElement schema, JsonElement value, string at, List<string> problems)
    {
        schema = Resolve(root, schema);
        if (schema.TryGetProperty("allOf", out var all))
        {
            foreach (var part in all.EnumerateArray())
            {
                Check(root, part, value, at, problems);
            }
        }
        if (schema.TryGetProperty("type", out var type) && !HasType(value, type.GetString()!))
        {
            problems.Add($"{at} is {value.ValueKind}, not {type.GetString()}");
            return;
        }
        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value))
        {
            problems.Add($"{at} is {value}, not {constant}");
        }
        if (schema.TryGetProperty("enum", out var choices) && !choices.EnumerateArray().Any(choice => JsonElement.DeepEquals(choice, value)))
        {
            problems.Add($"{at} is {value}, not one of {choices}");
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var required))
            {
                problems.AddRange(required.EnumerateArray().Select(r => r.GetString()!)
                    .Where(name => !value.TryGetProperty(name, out _)).Select(name => $"{at}.{name} is missing"));
            }
            if (schema.TryGetProperty("properties", out var properties))
            {
                foreach (var property in properties.EnumerateObject())
                {
                    if (value.TryGetProperty(property.Name, out var member))
                    {
                        Check(root, property.Value, member, $"{at}.{property.Name}", problems);
                    }
                }
                // A whole object's schema (with "required") lists every member; a part of an allOf only narrows some.
                if (schema.TryGetProperty("required", out _))
                {
                    problems.AddRange(value.EnumerateObject().Where(member => !properties.TryGetProperty(member.Name, out _))
                        .Select(member => $"{at}.{member.Name} is not in the document"));
                }
            }
        }
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(root, items, item, $"{at}[{index++}]", problems);
            }
        }
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        _ => false,
    };
}
