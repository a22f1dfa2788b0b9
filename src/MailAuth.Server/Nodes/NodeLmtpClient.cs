using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using MailAuth.Server.Smtp;
using MailAuth.Server.Smtp.Delivery;

namespace MailAuth.Server.Nodes;

/// <summary>
/// Hands one message to another node's LMTP server (RFC 2033): LHLO, MAIL, RCPT for each
/// recipient, DATA with dot-stuffing, then one reply per accepted recipient (§4.2), each relayed as
/// that node gave it. A node that cannot be reached, times out or hangs up before answering gets
/// <see cref="Unreachable"/> (4xx) for every recipient it has not answered for, so the sender retries.
/// </summary>
internal sealed class NodeLmtpClient(string hostName, TimeSpan timeout)
{
    /// <summary>RFC 3463 §3.5 X.4.1: no answer from the host; transient, so the MTA or the client retries.</summary>
    public static string Unreachable(string node) => $"451 4.4.1 Home node {node} not reachable, try again later";

    /// <summary>One reply per entry of <paramref name="recipients"/>, in order (RCPT refusals included).</summary>
    public async Task<string[]> SendAsync(
        string node, IPEndPoint endpoint, string sender, IReadOnlyList<string> recipients, Stream message, MailFromArguments mailFrom,
        CancellationToken cancellationToken)
    {
        var replies = new string?[recipients.Count];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var client = new TcpClient(endpoint.AddressFamily);
        try
        {
            await client.ConnectAsync(endpoint, deadline.Token);
            await using var stream = client.GetStream();
            await using var conversation = new SmtpRelayClient.Conversation(stream, timeout, deadline);
            var reply = await conversation.ReadReplyAsync();
            if (reply.Code != 220)
            {
                return AllGet(replies, reply.Text);
            }
            reply = await conversation.CommandAsync($"LHLO {hostName}");
            if (reply.Code != 250)
            {
                return AllGet(replies, reply.Text);
            }
            var extensions = reply.Lines.Skip(1).Select(line => line.Split(' ')[0].ToUpperInvariant()).ToHashSet();
            if (mailFrom.SmtpUtf8 && !extensions.Contains("SMTPUTF8"))
            {
                return AllGet(replies, SmtpReply.NonAsciiRecipient);
            }
            var mail = new StringBuilder($"MAIL FROM:<{sender}>");
            if (mailFrom.Body == SmtpBodyType.EightBitMime && extensions.Contains("8BITMIME"))
            {
                mail.Append(" BODY=8BITMIME");
            }
            if (mailFrom.SmtpUtf8)
            {
                mail.Append(" SMTPUTF8");
            }
            reply = await conversation.CommandAsync(mail.ToString());
            if (reply.Code != 250)
            {
                return AllGet(replies, reply.Text);
            }
            var accepted = new List<int>();
            for (var i = 0; i < recipients.Count; i++)
            {
                reply = await conversation.CommandAsync($"RCPT TO:<{recipients[i]}>");
                if (reply.Code is 250 or 251)
                {
                    accepted.Add(i);
                }
                else
                {
                    replies[i] = reply.Text;
                }
            }
            if (accepted.Count > 0)
            {
                reply = await conversation.CommandAsync("DATA");
                if (reply.Code != 354)
                {
                    return AllGet(replies, reply.Text);
                }
                await conversation.SendDotStuffedAsync(message);
                foreach (var i in accepted)
                {
                    replies[i] = (await conversation.ReadReplyAsync()).Text;
                }
            }
            try
            {
                await conversation.CommandAsync("QUIT");
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException)
            {
                // Every recipient has its answer; a node that hangs up before answering QUIT changes nothing.
            }
            return AllGet(replies, Unreachable(node));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AllGet(replies, Unreachable(node));
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or AuthenticationException)
        {
            return AllGet(replies, Unreachable(node));
        }
    }

    /// <summary>The replies so far, <paramref name="reply"/> for every recipient without one.</summary>
    private static string[] AllGet(string?[] replies, string reply) => [.. replies.Select(r => r ?? reply)];
}
