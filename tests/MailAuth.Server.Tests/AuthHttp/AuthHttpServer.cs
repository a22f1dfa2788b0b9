using System.Globalization;
using MailAuth.Server.Tests.Hostile;

namespace MailAuth.Server.Tests.AuthHttp;

/// <summary>
/// The real server with the nginx auth_http endpoint on a free loopback port and on
/// <c>DATA/auth-http.sock</c>, and one mailbox: <see cref="Address"/> / <see cref="Password"/>.
/// </summary>
internal static class AuthHttpServer
{
    public const string Address = "julie@family.example";
    public const string Password = "p@ss wörd%1";
    public const string SocketName = "auth-http.sock";

    public static async Task<(RunningServer Server, int Port)> StartAsync(IDictionary<string, string>? settings = null)
    {
        var port = RunningServer.FreePort();
        var all = new Dictionary<string, string>
        {
            ["MailAuth__AuthHttp__Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["MailAuth__AuthHttp__SocketPath"] = SocketName,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var server = await RunningServer.StartWithMailboxAsync(all, Address, Password, "listening auth-http on 127.0.0.1:");
        return (server, port);
    }

    /// <summary>nginx's escaping (NGX_ESCAPE_MAIL_AUTH): space, ", %, ' and control bytes; other bytes as they are.</summary>
    public static string NginxEscape(string text)
    {
        var escaped = new System.Text.StringBuilder();
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            if (b is <= 0x20 or (byte)'"' or (byte)'%' or (byte)'\'' or 0x7f)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
            else
            {
                escaped.Append((char)b); // a Latin-1 char per byte: sent as that one byte below
            }
        }
        return escaped.ToString();
    }

    /// <summary>The request nginx sends (ngx_mail_auth_http_create_request), with any header replaced or left out (null).</summary>
    public static string Request(IDictionary<string, string?>? changes = null, string requestLine = "GET /auth HTTP/1.0")
    {
        var headers = new List<KeyValuePair<string, string?>>
        {
            new("Host", "localhost"),
            new("Auth-Method", "plain"),
            new("Auth-User", NginxEscape(Address)),
            new("Auth-Pass", NginxEscape(Password)),
            new("Auth-Protocol", "imap"),
            new("Auth-Login-Attempt", "1"),
            new("Client-IP", "192.0.2.7"),
            new("Auth-SSL", "on"),
        };
        foreach (var (name, value) in changes ?? new Dictionary<string, string?>())
        {
            var index = headers.FindIndex(header => header.Key == name);
            if (index >= 0)
            {
                headers[index] = new(name, value);
            }
            else
            {
                headers.Add(new(name, value));
            }
        }
        var text = new System.Text.StringBuilder(requestLine + "\r\n");
        foreach (var (name, value) in headers.Where(header => header.Value is not null))
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        return text.Append("\r\n").ToString();
    }

    /// <summary>Sends <paramref name="request"/> as Latin-1 bytes over TCP and reads the status code and headers.</summary>
    public static async Task<HttpAnswer> SendAsync(int port, string request)
    {
        await using var connection = await LineConnection.OpenAsync(port);
        await connection.SendAsync(System.Text.Encoding.Latin1.GetBytes(request));
        var status = await connection.ReadLineAsync() ?? throw new IOException("closed without an answer");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (await connection.ReadLineAsync() is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }
        return new HttpAnswer(int.Parse(status.Split(' ')[1], CultureInfo.InvariantCulture), headers);
    }

}

/// <summary>An HTTP answer: status code and headers (the endpoint sends no body).</summary>
internal sealed record HttpAnswer(int Code, IReadOnlyDictionary<string, string> Headers)
{
    public string? this[string name] => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The Auth-* headers in one line, to compare answers without the Date header.</summary>
    public string AuthHeaders => string.Join("; ", Headers.Where(h => h.Key.StartsWith("Auth-", StringComparison.Ordinal)).OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {h.Value}"));
}
