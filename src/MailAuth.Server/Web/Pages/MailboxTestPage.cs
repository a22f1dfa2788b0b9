using MailAuth.Server.Sasl;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// <c>/test</c>, issue 16's first flow as a page: the pair goes through the same proof as the JSON
/// API and an IMAP login (<see cref="MailboxHolder"/>); on success, the settings a client needs.
/// </summary>
internal sealed class MailboxTestPage(PageForms forms, MailboxHolder holder, MailServerSettings settings)
{
    public const string Path = "/test";

    public Task GetAsync(HttpContext context) => Render(context, StatusCodes.Status200OK, address: null, refusal: null);

    public async Task PostAsync(HttpContext context)
    {
        if (await forms.ReadAsync(context) is not { } form)
        {
            return;
        }
        var address = PageForms.Field(form, "address");
        var password = PageForms.Field(form, "password");
        var outcome = await holder.VerifyAsync(context, "FORM", address, password);
        if (MailboxRefusal.Of(outcome) is { } refusal)
        {
            await Render(context, refusal.Status, address, refusal);
            return;
        }
        var verified = ((SaslLoginOutcome.Succeeded)outcome).Address.ToString();
        await new HtmlPage("Test an address and password")
            .Heading("The address and password work")
            .Success($"{verified} can log in. A mail client needs these settings:")
            .Table("Incoming mail (IMAP)", Columns, settings.Imap.Select(endpoint => Row(endpoint, verified)))
            .Table("Outgoing mail (SMTP submission)", Columns, settings.Submission.Select(endpoint => Row(endpoint, verified)))
            .Paragraph("The password is the mailbox password you just tested.")
            .Link(HomePage.Path, "Back to the start page")
            .WriteAsync(context);
    }

    private static readonly string[] Columns = ["Server", "Port", "Security", "Username"];

    private static string[] Row(MailServerEndpoint endpoint, string address) =>
    [
        endpoint.HostName,
        endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        endpoint.Security == TransportSecurity.ImplicitTls ? "SSL/TLS" : "STARTTLS",
        address,
    ];

    private Task Render(HttpContext context, int status, string? address, MailboxRefusal? refusal)
    {
        var page = new HtmlPage("Test an address and password")
            .Heading("Test an email address and password")
            .Paragraph("This checks the pair exactly as a mail client's login does.");
        if (refusal is not null)
        {
            page.Alert(MailboxRefusal.AlertId, refusal.Message);
        }
        return page
            .Form(Path, forms.TokenFor(context), "Test",
                new FormField("address", "Email address", FieldKind.Email, "username") { Value = address, DescribedBy = refusal is null ? null : MailboxRefusal.AlertId },
                new FormField("password", "Password", FieldKind.Password, "current-password") { DescribedBy = refusal is null ? null : MailboxRefusal.AlertId })
            .WriteAsync(context, status);
    }
}
