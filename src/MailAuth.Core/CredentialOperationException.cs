namespace MailAuth.Core;

/// <summary>
/// An operation refused for a reason the caller should see as is (unknown domain, duplicate
/// mailbox, malformed address, empty password, …). Never carries a secret.
/// </summary>
public class CredentialOperationException(string message) : Exception(message);
