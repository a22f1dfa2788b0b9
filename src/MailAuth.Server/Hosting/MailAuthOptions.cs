using MailAuth.Core.Passwords;

namespace MailAuth.Server.Hosting;

/// <summary>The <c>MailAuth</c> configuration section. Defaults match <c>config/appsettings.json</c>.</summary>
internal sealed class MailAuthOptions
{
    public const string Section = "MailAuth";

    public string DataDirectory { get; set; } = "data";

    public HashingOptions Hashing { get; set; } = new();

    public ImapOptions Imap { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    /// <summary>Every problem with the settings, each as one sentence naming its key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("MailAuth:DataDirectory is empty");
        }
        errors.AddRange(Hashing.Validate());
        CheckPort(errors, "MailAuth:Imap:Port", Imap.Port);
        CheckPort(errors, "MailAuth:Imap:TlsPort", Imap.TlsPort);
        CheckPort(errors, "MailAuth:Smtp:SubmissionPort", Smtp.SubmissionPort);
        CheckPort(errors, "MailAuth:Smtp:SubmissionsPort", Smtp.SubmissionsPort);
        if (string.IsNullOrEmpty(Tls.CertificateFile) != string.IsNullOrEmpty(Tls.KeyFile))
        {
            errors.Add("MailAuth:Tls:CertificateFile and MailAuth:Tls:KeyFile must be set together");
        }
        return errors;
    }

    private static void CheckPort(List<string> errors, string key, int port)
    {
        if (port is < 0 or > 65535)
        {
            errors.Add($"{key} must be between 0 (disabled) and 65535, not {port}");
        }
    }
}

internal sealed class ImapOptions
{
    /// <summary>IMAP with STARTTLS (RFC 3501); 0 disables.</summary>
    public int Port { get; set; } = 143;

    /// <summary>IMAP over implicit TLS (RFC 8314); 0 disables.</summary>
    public int TlsPort { get; set; } = 993;
}

internal sealed class SmtpOptions
{
    /// <summary>Submission with STARTTLS (RFC 6409); 0 disables.</summary>
    public int SubmissionPort { get; set; } = 587;

    /// <summary>Submission over implicit TLS (RFC 8314); 0 disables.</summary>
    public int SubmissionsPort { get; set; } = 465;

    /// <summary>host:port of a smarthost for non-local recipients; empty refuses them.</summary>
    public string RelayHost { get; set; } = "";
}

internal sealed class TlsOptions
{
    public string CertificateFile { get; set; } = "";

    public string KeyFile { get; set; } = "";
}
