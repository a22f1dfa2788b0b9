using System.Net.Sockets;
using System.Text;
using MailAuth.Core;
using MailAuth.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MailAuth.Server.Cli;

/// <summary>The CLI's side of <see cref="ControlSocketService"/>: one request line, one JSON answer line.</summary>
internal static class ControlSocketClient
{
    /// <summary>The server's answer; a refusal (exit 1) when no server runs on this data directory.</summary>
    public static async Task<string> AskAsync(IServiceProvider services, string request, CancellationToken cancellationToken)
    {
        var path = ControlSocketService.PathIn(services.GetRequiredService<MailAuthOptions>().DataDirectory);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        }
        catch (SocketException)
        {
            throw new CredentialOperationException($"the server is not running for this data directory (no {path})");
        }
        await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), cancellationToken);
        using var reader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.UTF8);
        return await reader.ReadLineAsync(cancellationToken) ?? throw new CredentialOperationException("the server closed the control socket without answering");
    }
}
