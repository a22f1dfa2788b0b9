using System.Data.Common;
using System.Globalization;
using MailAuth.Core.Storage;
using MailAuth.Server.Tls;

namespace MailAuth.Server.Observability;

/// <summary>
/// What <c>/readyz</c> reports: the store answers, every configured listener is bound, and the
/// certificate does not expire within <see cref="CertificateMargin"/> (time for a renewal that
/// failed to be noticed and fixed before clients refuse it).
/// </summary>
internal sealed class Readiness(StoreDatabase database, CertificateProvider certificates, TimeProvider clock)
{
    public static readonly TimeSpan CertificateMargin = TimeSpan.FromDays(14);

    private volatile bool _listenersBound;

    /// <summary>Set by the protocol listeners once every configured port is bound, cleared when they stop.</summary>
    public bool ListenersBound
    {
        get => _listenersBound;
        set => _listenersBound = value;
    }

    /// <summary>One line per problem; empty when ready.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        try
        {
            await database.ProbeAsync(cancellationToken);
        }
        catch (DbException e)
        {
            problems.Add("store unreachable: " + e.Message);
        }
        if (!ListenersBound)
        {
            problems.Add("listeners not bound");
        }
        var notAfter = certificates.Certificate.NotAfter.ToUniversalTime();
        if (notAfter - clock.GetUtcNow().UtcDateTime < CertificateMargin)
        {
            problems.Add("certificate expires " + notAfter.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
                + $" (within {CertificateMargin.TotalDays:0} days)");
        }
        return problems;
    }
}
