using MailAuth.Server.Hosting;

namespace MailAuth.Server.Protocol;

/// <summary>What a listener hands each accepted connection to: one per protocol (IMAP, SMTP).</summary>
internal interface IProtocolHandler
{
    /// <summary>Runs one session from greeting to goodbye; the connection is disposed by the caller.</summary>
    Task RunSessionAsync(ProtocolConnection connection, CancellationToken cancellationToken);

    /// <summary>Tells a client it cannot be served now (too many connections), in the protocol's words.</summary>
    Task RejectAsync(ProtocolConnection connection, string reason, CancellationToken cancellationToken);
}

/// <summary>One port to listen on.</summary>
internal sealed record ListenerDefinition(
    string Name,
    int Port,
    bool ImplicitTls,
    ListenerOptions Limits,
    ConnectionLimiter Connections,
    IProtocolHandler Handler);
