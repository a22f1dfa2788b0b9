namespace MailAuth.Server.Tls.Acme;

/// <summary>When to renew, and how long to wait after a failure.</summary>
internal static class AcmeSchedule
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromHours(6);

    /// <summary>
    /// Two thirds into the lifetime (day 60 of Let's Encrypt's 90, as certbot and mox): a third of
    /// it is left to retry in, well beyond the CA's expiry mails and a weekend's outage.
    /// </summary>
    public static DateTime RenewalTime(DateTime notBefore, DateTime notAfter) =>
        notBefore.ToUniversalTime() + (notAfter.ToUniversalTime() - notBefore.ToUniversalTime()) * 2 / 3;

    /// <summary>
    /// 5 minutes after the first failure, doubling, at most 6 hours: a CA's rate limits
    /// (Let's Encrypt: 5 failed validations per name per hour) are not run into by retrying.
    /// </summary>
    public static TimeSpan Backoff(int failures)
    {
        if (failures < 1)
        {
            return TimeSpan.Zero;
        }
        var delay = FirstRetry * Math.Pow(2, Math.Min(failures - 1, 16));
        return delay < LongestRetry ? delay : LongestRetry;
    }
}
