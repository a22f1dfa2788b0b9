using Microsoft.Extensions.Options;

namespace MailAuth.Core.Passwords;

/// <summary>
/// Plugs <see cref="HashingOptions.Validate"/> into the Options pattern, so that
/// <c>ValidateOnStart()</c> stops the host with every configuration error at once.
/// </summary>
internal sealed class HashingOptionsValidator : IValidateOptions<HashingOptions>
{
    public ValidateOptionsResult Validate(string? name, HashingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
