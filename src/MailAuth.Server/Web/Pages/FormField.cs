namespace MailAuth.Server.Web.Pages;

internal enum FieldKind
{
    Text,
    Email,
    Password,
    OneTimeCode,
    Checkbox,
    Hidden,
}

/// <summary>
/// One form control: <see cref="Name"/> is both its <c>name</c> and <c>id</c>, so that password
/// managers, assistive tools and tests know what it is; <see cref="Autocomplete"/> is the HTML
/// autofill token (<c>username</c>, <c>current-password</c>, <c>new-password</c>, <c>one-time-code</c>).
/// An <see cref="Error"/> is shown under the control and tied to it (<c>aria-describedby</c>, <c>aria-invalid</c>).
/// </summary>
internal sealed record FormField(string Name, string Label, FieldKind Kind, string Autocomplete = "off")
{
    public string? Value { get; init; }

    public string? Hint { get; init; }

    public string? Error { get; init; }

    public bool Required { get; init; } = true;

    /// <summary>The id of a message elsewhere on the page that also describes this control (a form-wide refusal).</summary>
    public string? DescribedBy { get; init; }
}
