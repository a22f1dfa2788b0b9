using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MailAuth.Server.Tests.Web.Api;

/// <summary>A provider's front end calling the JSON API of a real server: JSON bodies, an optional bearer token.</summary>
internal sealed class ApiClient(WebServer web) : IDisposable
{
    private readonly HttpClient _http = WebServer.Client();

    public async Task<Answer> PostAsync(string path, object body, string? token = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, web.Https(path))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, contentType),
        };
        return await SendAsync(request, token);
    }

    public async Task<Answer> GetAsync(string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, web.Https(path));
        return await SendAsync(request, token);
    }

    /// <summary>Logs in and returns the session token (asserting success).</summary>
    public async Task<string> LoginAsync(string identifier, string password, string? totp = null)
    {
        var login = await PostAsync("/api/v1/account/login", new { identifier, password, totp });
        Assert.That(login.Status, Is.EqualTo(HttpStatusCode.OK), login.Text);
        return login["token"].GetString()!;
    }

    private async Task<Answer> SendAsync(HttpRequestMessage request, string? token)
    {
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(header => header.Key, header => string.Join(", ", header.Value), StringComparer.OrdinalIgnoreCase);
        return new Answer(response.StatusCode, text, headers);
    }

    public void Dispose() => _http.Dispose();

    internal sealed record Answer(HttpStatusCode Status, string Text, IReadOnlyDictionary<string, string> Headers)
    {
        public JsonElement Json => JsonDocument.Parse(Text).RootElement;

        public JsonElement this[string name] => Json.GetProperty(name);

        public string Result => Json.GetProperty("result").GetString()!;
    }
}
