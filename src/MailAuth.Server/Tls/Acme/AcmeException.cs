namespace MailAuth.Server.Tls.Acme;

/// <summary>The CA refused a step or answered what RFC 8555 does not allow; the message names the step and the CA's words.</summary>
internal sealed class AcmeException(string message) : Exception(message);
