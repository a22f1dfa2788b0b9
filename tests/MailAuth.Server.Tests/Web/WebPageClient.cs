using System.Net;
using System.Text.RegularExpressions;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// A browser's part at the HTTP level: it keeps the cookies the server sets (by name, as a
/// browser would) and posts forms with the antiforgery token of the page it last fetched.
/// </summary>
/// <remarks>
/// With <paramref name="source"/> (a loopback address such as 127.0.0.7), it connects from that
/// address: another client network for the server's throttles and request limits.
/// </remarks>
internal sealed partial class WebPageClient(WebServer web, IPAddress? source = null) : IDisposable
{
    private readonly HttpClient _http = new(source is null
        ? new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
            AllowAutoRedirect = false,
            UseCookies = false,
        }
        : From(source))
    { Timeout = TimeSpan.FromSeconds(20) };

    private static SocketsHttpHandler From(IPAddress source) => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(source.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    /// <summary>Every Set-Cookie header seen, as sent.</summary>
    public List<string> SetCookies { get; } = [];

    public string? Token { get; private set; }

    public async Task<Page> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, web.Https(path));
        return await SendAsync(request);
    }

    /// <summary>Posts <paramref name="fields"/>, with the last page's token unless <paramref name="withToken"/> is false.</summary>
    public async Task<Page> PostAsync(string path, bool withToken = true, params (string Name, string Value)[] fields)
    {
        var all = fields.Select(field => new KeyValuePair<string, string>(field.Name, field.Value)).ToList();
        if (withToken)
        {
            all.Add(new("csrf-token", Token ?? throw new InvalidOperationException("no page with a form fetched yet")));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, web.Https(path)) { Content = new FormUrlEncodedContent(all) };
        return await SendAsync(request);
    }

    private async Task<Page> SendAsync(HttpRequestMessage request)
    {
        if (Cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(cookie => cookie.Key + "=" + cookie.Value)));
        }
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                SetCookies.Add(setCookie);
                var pair = setCookie.Split(';')[0];
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = (pair[..equals], pair[(equals + 1)..]);
                if (value.Length == 0 || setCookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                {
                    Cookies.Remove(name);
                }
                else
                {
                    Cookies[name] = value;
                }
            }
        }
        if (TokenField().Match(body) is { Success: true } token)
        {
            Token = token.Groups[1].Value;
        }
        return new Page(response.StatusCode, body, response.Headers.Location?.ToString(),
            response.Headers.ToDictionary(header => header.Key, header => string.Join(", ", header.Value), StringComparer.OrdinalIgnoreCase),
            response.Content.Headers.ContentType?.ToString());
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The page with its antiforgery token replaced, to compare two answers that must be equal.</summary>
    public static string WithoutToken(string body) => TokenField().Replace(body, "name=\"csrf-token\" value=\"TOKEN\"");

    [GeneratedRegex("name=\"csrf-token\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    internal sealed record Page(HttpStatusCode Status, string Body, string? Location, IReadOnlyDictionary<string, string> Headers, string? ContentType);
}
