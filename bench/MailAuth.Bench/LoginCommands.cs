using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailAuth.Core.Passwords;

namespace MailAuth.Bench;

/// <summary>The <c>users</c> and <c>login</c> verbs, with their small option parser.</summary>
internal static class LoginCommands
{
    public const string Usage =
        "usage: MailAuth.Bench users --count N --domain D --out DIR [--memory-kib N] [--iterations N]\n"
        + "  Writes DIR/credentials (address:password, for 'login') and DIR/passwd (Dovecot passwd-file with\n"
        + "  {ARGON2ID} hashes at the given parameters, for 'mailauth mailbox import' and Dovecot alike).\n"
        + "usage: MailAuth.Bench login --protocol imap|smtp --port N --users FILE [--host H] [--starttls]\n"
        + "       [--clients N] [--seconds N] [--skip N] [--distinct N] [--no-repeat] [--wrong-password] [--ca PEM] [--label TEXT]\n"
        + "       [--warm-up SECONDS --warm-up-users FILE]\n"
        + "  N concurrent clients, each login on a new connection: connect, TLS, AUTHENTICATE/AUTH PLAIN, logout.\n"
        + "  --skip N leaves out the first N users; --distinct N uses only the next N (repeat logins);\n"
        + "  --no-repeat stops once every user logged in once (cold logins); --wrong-password expects refusals;\n"
        + "  --warm-up runs unmeasured logins of other users first, so that neither side is still compiling.\n"
        + "usage: MailAuth.Bench login --protocol sasl (--port N [--host H] | --socket PATH) --users FILE [--clients N] [--seconds N]\n"
        + "       [--skip N] [--distinct N] [--no-repeat] [--wrong-password] [--label TEXT] [--warm-up SECONDS --warm-up-users FILE]\n"
        + "  The Dovecot auth protocol (MailAuth:SaslService, or Dovecot's auth-client listener) as Postfix\n"
        + "  speaks it: N long-lived connections, each sending one AUTH PLAIN at a time.\n"
        + "usage: MailAuth.Bench idle --port N --users FILE --server-pid PID [--connections N] [--parallel N] [--host H] [--ca PEM]\n"
        + "  Opens N authenticated IMAP connections over implicit TLS, leaves them idle and reports the\n"
        + "  server's resident memory before and with them (raise 'ulimit -n' for both processes first).\n"
        + "usage: MailAuth.Bench timing --protocol imap|smtp --port N --users FILE [--tries N] [--host H] [--ca PEM]\n"
        + "  Times the AUTH round trip for a wrong password of a known address and for an unknown address,\n"
        + "  alternately, N times each, and compares the distributions. Run the server with its throttle off\n"
        + "  for the client's network (MailAuth__Authentication__TrustedNetworks__0=127.0.0.1/32).";

    public static int Users(IReadOnlyList<string> args)
    {
        var options = Parse(args);
        var count = Int(options, "--count", 1000);
        var domain = options.GetValueOrDefault("--domain") ?? "bench.example";
        var directory = options.GetValueOrDefault("--out") ?? throw new ArgumentException("--out DIR is required");
        var hashing = new HashingOptions { MemoryKiB = Int(options, "--memory-kib", 19456), Iterations = Int(options, "--iterations", 2) };
        var hasher = new PasswordHasher(hashing);
        Directory.CreateDirectory(directory);
        var users = Enumerable.Range(1, count)
            .Select(i => (Address: $"user{i:D5}@{domain}", Password: Convert.ToBase64String(RandomNumberGenerator.GetBytes(12))))
            .ToArray();
        var hashes = new string[count];
        Parallel.For(0, count, i => hashes[i] = hasher.Hash(users[i].Password));
        File.WriteAllLines(Path.Combine(directory, "credentials"), users.Select(u => $"{u.Address}:{u.Password}"));
        File.WriteAllLines(Path.Combine(directory, "passwd"), users.Select((u, i) => $"{u.Address}:{hashes[i]}"));
        Console.WriteLine($"{count} users in {directory} (argon2id m={hashing.MemoryKiB} KiB, t={hashing.Iterations}, p=1)");
        return 0;
    }

    public static async Task<int> LoginAsync(IReadOnlyList<string> args)
    {
        var options = Parse(args);
        var protocol = options.GetValueOrDefault("--protocol") switch
        {
            "imap" => Protocol.Imap,
            "smtp" => Protocol.Smtp,
            "sasl" => Protocol.Sasl,
            _ => throw new ArgumentException("--protocol imap|smtp|sasl is required"),
        };
        var usersFile = options.GetValueOrDefault("--users") ?? throw new ArgumentException("--users FILE is required");
        var users = ReadUsers(usersFile).Skip(Int(options, "--skip", 0)).ToList();
        var distinct = Int(options, "--distinct", users.Count);
        if (distinct < 1)
        {
            throw new ArgumentException("--distinct must be at least 1");
        }
        users = users.Take(distinct).ToList();
        var wrong = options.ContainsKey("--wrong-password");
        if (wrong)
        {
            users = users.Select(u => u with { Password = u.Password + "-wrong" }).ToList();
        }
        var clients = Int(options, "--clients", 16);
        var seconds = Int(options, "--seconds", 10);
        if (protocol == Protocol.Sasl)
        {
            return await SaslAsync(options, users, wrong, distinct, clients, seconds);
        }
        var ca = options.GetValueOrDefault("--ca");
        var target = new LoginTarget(
            protocol,
            options.GetValueOrDefault("--host") ?? "127.0.0.1",
            Int(options, "--port", 0),
            options.ContainsKey("--starttls"),
            ca is null ? null : X509Certificate2.CreateFromPem(File.ReadAllText(ca)));
        var load = new LoginLoad(target, users, expectSuccess: !wrong, noRepeat: options.ContainsKey("--no-repeat"));
        // One login first: a configuration error shows at once rather than as thousands of errors.
        try
        {
            if (await load.LoginOnceAsync(users[0], default) == wrong)
            {
                Console.Error.WriteLine($"MailAuth.Bench: the first login of {users[0].Address} was {(wrong ? "accepted" : "refused")}");
                return 1;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or ProtocolException)
        {
            Console.Error.WriteLine($"MailAuth.Bench: the first login of {users[0].Address} failed: {e.Message}");
            return 1;
        }
        if (!await WarmUpAsync(options, (warm, duration) => new LoginLoad(target, warm, expectSuccess: true).RunAsync(clients, duration, default)))
        {
            return 1;
        }
        var report = await load.RunAsync(clients, TimeSpan.FromSeconds(seconds), default);
        var label = options.GetValueOrDefault("--label")
            ?? $"{protocol.ToString().ToLowerInvariant()}{(target.StartTls ? "+starttls" : "s")} {distinct} users x{clients}";
        Console.WriteLine(report.Format(label));
        return report.Unexpected > 0 || report.Failures > 0 ? 1 : 0;
    }

    private static async Task<int> SaslAsync(Dictionary<string, string> options, List<Credential> users, bool wrong, int distinct, int clients, int seconds)
    {
        var endpoint = options.GetValueOrDefault("--socket") is { } socket
            ? "unix:" + socket
            : $"{options.GetValueOrDefault("--host") ?? "127.0.0.1"}:{Int(options, "--port", 0)}";
        var load = new SaslServiceLoad(endpoint, users, expectSuccess: !wrong, noRepeat: options.ContainsKey("--no-repeat"));
        try
        {
            if (await load.AuthenticateOnceAsync(users[0], default) == wrong)
            {
                Console.Error.WriteLine($"MailAuth.Bench: the first authentication of {users[0].Address} was {(wrong ? "accepted" : "refused")}");
                return 1;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolException)
        {
            Console.Error.WriteLine($"MailAuth.Bench: the first authentication of {users[0].Address} failed: {e.Message}");
            return 1;
        }
        if (!await WarmUpAsync(options, (warm, duration) => new SaslServiceLoad(endpoint, warm, expectSuccess: true, noRepeat: false).RunAsync(clients, duration, default)))
        {
            return 1;
        }
        var report = await load.RunAsync(clients, TimeSpan.FromSeconds(seconds), default);
        Console.WriteLine(report.Format(options.GetValueOrDefault("--label") ?? $"sasl {distinct} users x{clients}").Replace(" logins ", " auths  ", StringComparison.Ordinal));
        return report.Unexpected > 0 || report.Failures > 0 ? 1 : 0;
    }

    /// <summary>
    /// <c>--warm-up SECONDS</c>: logins of the <c>--warm-up-users</c> (users the measured run does not
    /// touch, so cold stays cold) before the measured run, not counted. A fresh server is still
    /// compiling its login path and this process its client: both would be counted against the
    /// server on a machine whose cores the client shares.
    /// </summary>
    private static async Task<bool> WarmUpAsync(
        Dictionary<string, string> options, Func<IReadOnlyList<Credential>, TimeSpan, Task<LoadReport>> run)
    {
        var seconds = Int(options, "--warm-up", 0);
        if (seconds == 0)
        {
            return true;
        }
        var file = options.GetValueOrDefault("--warm-up-users")
            ?? throw new ArgumentException("--warm-up needs --warm-up-users FILE (users the measured run does not use)");
        var report = await run(ReadUsers(file), TimeSpan.FromSeconds(seconds));
        if (report.Failures > 0 || report.Unexpected > 0)
        {
            Console.Error.WriteLine($"MailAuth.Bench: the warm-up failed: {report.Format("warm-up")}");
            return false;
        }
        return true;
    }

    public static async Task<int> IdleAsync(IReadOnlyList<string> args)
    {
        var options = Parse(args);
        var users = ReadUsers(options.GetValueOrDefault("--users") ?? throw new ArgumentException("--users FILE is required"));
        var pid = Int(options, "--server-pid", 0);
        var count = Int(options, "--connections", 10_000);
        var ca = options.GetValueOrDefault("--ca");
        var target = new LoginTarget(Protocol.Imap, options.GetValueOrDefault("--host") ?? "127.0.0.1", Int(options, "--port", 0), false,
            ca is null ? null : X509Certificate2.CreateFromPem(File.ReadAllText(ca)));
        var load = new LoginLoad(target, users, expectSuccess: true);
        var before = ResidentMiB(pid);
        var open = new System.Collections.Concurrent.ConcurrentBag<IDisposable>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Logins in flight from one network count against its failure limit until verified
        // (Authentication:Throttle:NetworkFailures, 30): more at once from one address look like
        // spraying and are refused. Every idle connection here comes from 127.0.0.1.
        var parallel = Int(options, "--parallel", 16);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
            open.Add(await load.OpenIdleImapAsync(users[i % users.Count], ct)));
        var opened = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3));
        GC.Collect();
        var with = ResidentMiB(pid);
        Console.WriteLine($"idle imaps connections   {open.Count} logged in and idle (opened in {opened.TotalSeconds:0.0} s)");
        Console.WriteLine($"server resident memory   {before:0} MiB before, {with:0} MiB with them: {(with - before) * 1024 / Math.Max(1, open.Count):0.0} KiB per connection");
        foreach (var connection in open)
        {
            connection.Dispose();
        }
        return 0;
    }

    public static async Task<int> TimingAsync(IReadOnlyList<string> args)
    {
        var options = Parse(args);
        var protocol = options.GetValueOrDefault("--protocol") == "smtp" ? Protocol.Smtp : Protocol.Imap;
        var users = ReadUsers(options.GetValueOrDefault("--users") ?? throw new ArgumentException("--users FILE is required"));
        var tries = Int(options, "--tries", 200);
        var ca = options.GetValueOrDefault("--ca");
        var target = new LoginTarget(protocol, options.GetValueOrDefault("--host") ?? "127.0.0.1", Int(options, "--port", 0), false,
            ca is null ? null : X509Certificate2.CreateFromPem(File.ReadAllText(ca)));
        var load = new LoginLoad(target, users, expectSuccess: false);
        var wrong = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < tries; i++)
        {
            var known = users[i % users.Count];
            var (wrongTime, wrongAccepted) = await load.TimeAuthenticationAsync(known with { Password = known.Password + "-wrong" }, default);
            var (unknownTime, unknownAccepted) = await load.TimeAuthenticationAsync(
                new Credential($"nobody{i}@{known.Address[(known.Address.IndexOf('@', StringComparison.Ordinal) + 1)..]}", known.Password), default);
            if (wrongAccepted || unknownAccepted)
            {
                throw new ArgumentException("a login that should fail was accepted");
            }
            wrong.Add(wrongTime.TotalMilliseconds);
            unknown.Add(unknownTime.TotalMilliseconds);
        }
        var report = (string name, List<double> values) =>
        {
            var sorted = values.Order().ToArray();
            return $"{name,-26} median {sorted[sorted.Length / 2],7:0.00} ms  p10 {sorted[sorted.Length / 10],7:0.00}  p90 {sorted[sorted.Length * 9 / 10],7:0.00}  ({sorted.Length} tries)";
        };
        var medianWrong = wrong.Order().ElementAt(wrong.Count / 2);
        var medianUnknown = unknown.Order().ElementAt(unknown.Count / 2);
        Console.WriteLine(report("wrong password", wrong));
        Console.WriteLine(report("unknown address", unknown));
        Console.WriteLine($"median difference          {100 * Math.Abs(medianWrong - medianUnknown) / medianWrong:0.0} % (target < 5 %)");
        return 0;
    }

    private static IReadOnlyList<Credential> ReadUsers(string file)
    {
        var users = File.ReadLines(file)
            .Where(line => line.Contains(':', StringComparison.Ordinal))
            .Select(line => new Credential(line[..line.IndexOf(':', StringComparison.Ordinal)], line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..]))
            .ToList();
        return users.Count > 0 ? users : throw new ArgumentException($"{file} holds no address:password lines");
    }

    /// <summary>VmRSS of a process, from /proc.</summary>
    private static double ResidentMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            ?? throw new ArgumentException($"no process {pid}");
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static Dictionary<string, string> Parse(IReadOnlyList<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument {name}");
            }
            if (name is "--starttls" or "--wrong-password" or "--no-repeat")
            {
                options[name] = "";
            }
            else if (i + 1 < args.Count)
            {
                options[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"{name} needs a value");
            }
        }
        return options;
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        !options.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value
        : throw new ArgumentException($"{name} {text}: not a number");
}
