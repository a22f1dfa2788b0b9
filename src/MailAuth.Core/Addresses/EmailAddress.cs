namespace MailAuth.Core.Addresses;

/// <summary>
/// A normalised address: local part lower-cased, domain in lower-case ASCII (IDN labels as
/// <c>xn--</c>). Two spellings of the same mailbox normalise to equal values.
/// </summary>
public sealed record EmailAddress(string LocalPart, string Domain)
{
    public override string ToString() => LocalPart + "@" + Domain;

    /// <summary>Normalises <paramref name="input"/> or throws <see cref="InvalidAddressException"/> with the reason.</summary>
    public static EmailAddress Parse(string? input) =>
        AddressNormalizer.TryNormalize(input, out var address, out var error)
            ? address
            : throw new InvalidAddressException(input, error);
}

public sealed class InvalidAddressException(string? input, string reason)
    : CredentialOperationException($"invalid address '{AddressNormalizer.Printable(input)}': {reason}")
{
    public string Reason { get; } = reason;
}
