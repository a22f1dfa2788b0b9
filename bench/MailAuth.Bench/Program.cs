using MailAuth.Bench;
using MailAuth.Core.Passwords;
using Microsoft.Extensions.Options;

// dotnet run -c Release --project bench/MailAuth.Bench -- argon2 [--seconds N] [--memory-kib N] [--iterations N] [--config FILE]
const string Usage =
    "usage: MailAuth.Bench argon2 [--seconds N] [--memory-kib N] [--iterations N] [--config FILE]\n"
    + "  Measures Argon2id verifications per second on 1 thread and on every core.\n"
    + "  Parameters default to MailAuth:Hashing in config/appsettings.json (searched upwards from the\n"
    + "  current directory); --seconds is the duration of each of the two runs (default 5).";

if (args is ["--help" or "-h"])
{
    Console.WriteLine(Usage + "\n" + LoginCommands.Usage);
    return 0;
}

if (args is ["users" or "login" or "idle" or "timing", .. var rest])
{
    try
    {
        return args[0] switch
        {
            "users" => LoginCommands.Users(rest),
            "login" => await LoginCommands.LoginAsync(rest),
            "idle" => await LoginCommands.IdleAsync(rest),
            _ => await LoginCommands.TimingAsync(rest),
        };
    }
    catch (Exception e) when (e is ArgumentException or IOException)
    {
        Console.Error.WriteLine($"MailAuth.Bench: {e.Message}\n{LoginCommands.Usage}");
        return 2;
    }
}

if (args is not ["argon2", .. var options])
{
    Console.Error.WriteLine(Usage + "\n" + LoginCommands.Usage);
    return 2;
}

if (!BenchArguments.TryParse(options, out var arguments, out string? error))
{
    Console.Error.WriteLine($"MailAuth.Bench: {error}");
    return 2;
}

try
{
    var (hashing, source) = HashingConfig.Load(arguments.ConfigFile);
    hashing.MemoryKiB = arguments.MemoryKiB ?? hashing.MemoryKiB;
    hashing.Iterations = arguments.Iterations ?? hashing.Iterations;
    var report = new Argon2Benchmark(hashing, arguments.Duration).Run();
    Console.Write(report.Format(source));
    return 0;
}
catch (Exception e) when (e is OptionsValidationException or ConfigurationFileException)
{
    Console.Error.WriteLine($"MailAuth.Bench: {e.Message}");
    return 2;
}
catch (PasswordHashingUnavailableException e)
{
    Console.Error.WriteLine($"MailAuth.Bench: {e.Message}");
    return 1;
}
