using System.Security.Cryptography;
using MailAuth.Core.Accounts;
using Microsoft.AspNetCore.DataProtection;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// A pending 2FA secret carried by the client between enrolment and its first code (the page's
/// hidden field, the API's <c>enrolment</c> string), sealed with the listener's data protection
/// (authenticated encryption), bound to the account and valid 10 minutes: nothing is stored before a
/// code confirms it, a restart or another node does not need shared session state, and a sealed
/// value cannot be altered, read or used by another account.
/// </summary>
internal sealed class TwoFactorEnrolmentSeal(IDataProtectionProvider protection)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _sealer = protection.CreateProtector("MailAuth.Web.TwoFactorEnrolment").ToTimeLimitedDataProtector();

    public string Seal(TwoFactorEnrolment enrolment, string identifier) =>
        _sealer.Protect(identifier + "\n" + Convert.ToBase64String(enrolment.Secret) + "\n" + enrolment.Base32Secret + "\n" + enrolment.ProvisioningUri, Lifetime);

    /// <summary>The enrolment sealed for <paramref name="identifier"/>, or null when altered, expired, another account's or not one.</summary>
    public TwoFactorEnrolment? Unseal(string sealedValue, string identifier)
    {
        string plain;
        try
        {
            plain = _sealer.Unprotect(sealedValue);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
        var parts = plain.Split('\n');
        return parts.Length == 4 && parts[0] == identifier
            ? new TwoFactorEnrolment(Convert.FromBase64String(parts[1]), parts[2], parts[3])
            : null;
    }
}
