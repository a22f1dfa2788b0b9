using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using static MailAuth.Server.Tests.Cli.CliAssert;

namespace MailAuth.Server.Tests.Cli;

/// <summary>
/// <c>serve</c> as an admin or systemd runs it: start, report the configuration, prepare the TLS
/// certificate, stop on SIGTERM. Every listener port is 0, so these tests hold whatever listeners exist.
/// </summary>
[TestFixture]
public sealed class ServeCommandTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>systemd waits 90 s before SIGKILL; an admin expects a few seconds (generous here for loaded test machines).</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private MailAuthProcess _cli = null!;

    [SetUp]
    public void CreateWithEveryListenerDisabled()
    {
        _cli = new MailAuthProcess();
        foreach (var port in new[] { "Imap__Port", "Imap__TlsPort", "Smtp__SubmissionPort", "Smtp__SubmissionsPort" })
        {
            _cli.Environment["MailAuth__" + port] = "0";
        }
    }

    [TearDown]
    public void Stop() => _cli.Dispose();

    private string CertificateFile => Path.Combine(_cli.DataDirectory, "tls", "certificate.pem");

    private string KeyFile => Path.Combine(_cli.DataDirectory, "tls", "key.pem");

    [Test]
    public async Task GeneratesACertificateOnceReportsItsConfigurationAndStopsOnSigterm()
    {
        string thumbprint;
        using (var server = await ServeProcess.StartAsync(_cli))
        {
            var log = server.Stdout;
            Assert.That(log, Does.Contain($" store: {Path.Combine(_cli.DataDirectory, "mailauth.db")}\n")
                .And.Contain(" hashing: argon2id m=1024 KiB, t=1, p=1\n")
                .And.Contain(" ports: imap=disabled imaps=disabled submission=disabled submissions=disabled relay=none\n")
                .And.Contain(" tls: generated self-signed certificate CN="), log);

            Assert.That(File.GetUnixFileMode(KeyFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "the private key is its owner's only");
            using var certificate = X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile);
            thumbprint = certificate.Thumbprint;
            AssertSelfSignedP256WithLoopbackNames(certificate);
            Assert.That(log, Does.Contain($", SHA-1 {thumbprint}\n"), log);
            AssertNoSecretIn(log + server.Stderr);

            var stopped = await server.StopAsync();
            Assert.That(stopped.ExitCode, Is.Zero, stopped.ToString());
            Assert.That(stopped.Elapsed, Is.LessThan(StopTimeout), stopped.ToString());
            Assert.That(stopped.Stdout, Does.Contain(" stopping\n"), stopped.ToString());
            Assert.That(stopped.Stderr, Is.Empty, stopped.ToString());
        }

        var certificateBytes = File.ReadAllBytes(CertificateFile);
        var keyBytes = File.ReadAllBytes(KeyFile);
        using (var again = await ServeProcess.StartAsync(_cli))
        {
            Assert.That(again.Stdout, Does.Contain($" tls: self-signed certificate CN=").And.Contain($", SHA-1 {thumbprint}\n")
                .And.Not.Contain("generated"), again.Stdout);
            Assert.That(File.ReadAllBytes(CertificateFile), Is.EqualTo(certificateBytes), "the certificate is reused");
            Assert.That(File.ReadAllBytes(KeyFile), Is.EqualTo(keyBytes), "the key is reused");
            var stopped = await again.StopAsync();
            Assert.That(stopped.ExitCode, Is.Zero, stopped.ToString());
            Assert.That(stopped.Elapsed, Is.LessThan(StopTimeout), stopped.ToString());
        }
    }

    [NUnit.Framework.Category("External")]
    [Test]
    public async Task UsesAConfiguredPemPairInsteadOfGenerating()
    {
        var (certificateFile, keyFile) = MakePemPair("mail.family.example");
        using var expected = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        _cli.Environment["MailAuth__Tls__CertificateFile"] = certificateFile;
        _cli.Environment["MailAuth__Tls__KeyFile"] = keyFile;

        using var server = await ServeProcess.StartAsync(_cli);
        Assert.That(server.Stdout, Does.Contain($" tls: configured certificate CN=mail.family.example, valid until ")
            .And.Contain($", SHA-1 {expected.Thumbprint}\n"), server.Stdout);
        Assert.That(Directory.Exists(Path.Combine(_cli.DataDirectory, "tls")), Is.False, "nothing generated");
        AssertNoSecretIn(server.Stdout + server.Stderr, keyFile);
        var stopped = await server.StopAsync();
        Assert.That(stopped.ExitCode, Is.Zero, stopped.ToString());
        Assert.That(stopped.Elapsed, Is.LessThan(StopTimeout), stopped.ToString());
    }

    [TestCase("MailAuth__Hashing__Parallelism", "2",
        "invalid configuration: MailAuth:Hashing:Parallelism is 2; it must be 1 because libsodium computes single-lane Argon2id hashes only")]
    [TestCase("MailAuth__Hashing__MemoryKiB", "4",
        "invalid configuration: MailAuth:Hashing:MemoryKiB is 4; it must be between 8 (libsodium's minimum of 8192 bytes) and 4194304 (4 GiB)")]
    [TestCase("MailAuth__Imap__Port", "imap",
        "invalid configuration: Failed to convert configuration value 'imap' at 'MailAuth:Imap:Port' to type 'System.Int32'.")]
    [TestCase("MailAuth__Smtp__SubmissionsPort", "70000",
        "invalid configuration: MailAuth:Smtp:SubmissionsPort must be between 0 (disabled) and 65535, not 70000")]
    [TestCase("MailAuth__Tls__CertificateFile", "/etc/ssl/certs/mail.pem",
        "invalid configuration: MailAuth:Tls:CertificateFile and MailAuth:Tls:KeyFile must be set together")]
    [TestCase("MailAuth__Tls__KeyFile", "/etc/ssl/private/mail.pem",
        "invalid configuration: MailAuth:Tls:CertificateFile and MailAuth:Tls:KeyFile must be set together")]
    public async Task AnInvalidSettingExitsWithTwoAndOneLine(string variable, string value, string error)
    {
        _cli.Environment[variable] = value;
        var result = await RunUntilExitAsync();
        Refused(result, 2, "error: " + error);
        Assert.That(Directory.Exists(_cli.DataDirectory), Is.False, "refused before the store is opened");
    }

    [Test]
    public async Task AnUnusablePemPairExitsWithTwoAndOneLine()
    {
        var (certificateFile, keyFile) = MakePemPair("mail.family.example");
        var (_, otherKeyFile) = MakePemPair("other.example");
        var missing = Path.Combine(_cli.WorkingDirectory, "missing.pem");
        var cases = new (string Certificate, string Key, string Reason)[]
        {
            (certificateFile, missing, $"Could not find file '{missing}'."),
            (certificateFile, otherKeyFile, "The provided key does not match the public key for this certificate. (Parameter 'privateKey')"),
            (keyFile, certificateFile, "The certificate contents do not contain a PEM with a CERTIFICATE label, or the content is malformed."),
        };
        foreach (var (certificate, key, reason) in cases)
        {
            _cli.Environment["MailAuth__Tls__CertificateFile"] = certificate;
            _cli.Environment["MailAuth__Tls__KeyFile"] = key;
            Refused(await RunUntilExitAsync(), 2,
                $"error: MailAuth:Tls:CertificateFile {certificate} and MailAuth:Tls:KeyFile {key} are not a usable PEM pair: {reason}");
        }
        Assert.That(Directory.Exists(Path.Combine(_cli.DataDirectory, "tls")), Is.False, "never replaced by a generated one");
    }

    [Test]
    public async Task AnUnusableDataDirectoryExitsWithOneLine()
    {
        var inTheWay = Path.Combine(_cli.WorkingDirectory, "a-file");
        await File.WriteAllTextAsync(inTheWay, "not a directory");
        _cli.Environment["MailAuth__DataDirectory"] = Path.Combine(inTheWay, "data");
        Refused(await RunUntilExitAsync(), 1, $"error: cannot start: Could not find a part of the path '{Path.Combine(inTheWay, "data")}'.");
    }

    [Test]
    public async Task ADataDirectoryTooLongForItsControlSocketExitsWithOneLine()
    {
        // A UNIX socket path has at most 107 bytes.
        var data = Path.Combine(_cli.WorkingDirectory, new string('d', 120));
        _cli.Environment["MailAuth__DataDirectory"] = data;
        var result = await RunUntilExitAsync();
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Stderr, Is.EqualTo(
            $"error: cannot start: the control socket {Path.Combine(data, "control.sock")} is longer than the 108 bytes a UNIX socket path can have; use a shorter data directory\n"),
            result.ToString());
    }

    [TestCase("SaslService")]
    [TestCase("AuthHttp")]
    public async Task ASocketPathTooLongForAUnixSocketExitsWithTwoAndOneLine(string section)
    {
        var path = "/run/" + new string('s', 100) + ".sock";
        _cli.Environment[$"MailAuth__{section}__SocketPath"] = path;
        var result = await RunUntilExitAsync();
        Refused(result, 2, $"error: invalid configuration: MailAuth:{section}:SocketPath {path} is longer than the 108 bytes a UNIX socket path can have");
    }

    private static void AssertSelfSignedP256WithLoopbackNames(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPublicKey();
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(certificate.HasPrivateKey, Is.True);
            Assert.That(key, Is.Not.Null, "an ECDSA key");
            Assert.That(key!.ExportParameters(false).Curve.Oid.Value, Is.EqualTo("1.2.840.10045.3.1.7"), "curve P-256 (prime256v1)");
            Assert.That(certificate.SubjectName.Name, Is.EqualTo(certificate.IssuerName.Name), "self-signed");
            Assert.That(names.EnumerateDnsNames(), Does.Contain("localhost").And.Contain(Dns.GetHostName()));
            Assert.That(names.EnumerateIPAddresses(), Does.Contain(IPAddress.Loopback).And.Contain(IPAddress.IPv6Loopback));
            Assert.That(certificate.NotBefore, Is.LessThan(DateTime.Now));
            Assert.That(certificate.NotAfter, Is.GreaterThan(DateTime.Now.AddDays(800)).And.LessThanOrEqualTo(DateTime.Now.AddDays(825)),
                "Apple clients refuse server certificates valid for more than 825 days");
        }
    }

    /// <summary>Neither the private key nor any part of it appears in what serve prints.</summary>
    private void AssertNoSecretIn(string output, string? keyFile = null)
    {
        var keyBody = File.ReadAllLines(keyFile ?? KeyFile).Where(line => !line.StartsWith("-----", StringComparison.Ordinal));
        Assert.That(output, Does.Not.Contain("PRIVATE KEY"));
        foreach (var line in keyBody)
        {
            Assert.That(output, Does.Not.Contain(line));
        }
    }

    /// <summary>A certificate and key made by openssl, as an admin would bring them.</summary>
    private (string Certificate, string Key) MakePemPair(string name)
    {
        var certificate = Path.Combine(_cli.WorkingDirectory, name + ".crt.pem");
        var key = Path.Combine(_cli.WorkingDirectory, name + ".key.pem");
        RunTool("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "30", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name);
        return (certificate, key);
    }

    private async Task<CliResult> RunUntilExitAsync()
    {
        using var server = ServeProcess.Launch(_cli);
        return await server.WaitForExitAsync(StartTimeout);
    }

    private static void RunTool(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"{program} {string.Join(' ', args)}: {stdout.Result}{stderr}");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot run {program}: {e.Message}");
        }
    }

    private sealed record Stopped(int ExitCode, TimeSpan Elapsed, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary><c>mailauth serve</c> in the background, its output collected as it comes.</summary>
    private sealed class ServeProcess : IDisposable
    {
        /// <summary>The last line of the start-up report: everything is open by then.</summary>
        private const string ReadyMarker = " ports: ";

        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _stdoutDone;
        private readonly Task<string> _stderr;

        private ServeProcess(Process process)
        {
            _process = process;
            _process.StandardInput.Close();
            _stderr = process.StandardError.ReadToEndAsync();
            _stdoutDone = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (_stdout)
                    {
                        _stdout.Append(line).Append('\n');
                    }
                    if (line.Contains(ReadyMarker, StringComparison.Ordinal))
                    {
                        _ready.TrySetResult();
                    }
                }
            });
        }

        public string Stdout
        {
            get
            {
                lock (_stdout)
                {
                    return _stdout.ToString();
                }
            }
        }

        public string Stderr => _stderr.IsCompleted ? _stderr.Result : "";

        public static ServeProcess Launch(MailAuthProcess cli) => new(cli.Start("serve"));

        public static async Task<ServeProcess> StartAsync(MailAuthProcess cli)
        {
            var server = Launch(cli);
            var exited = server._process.WaitForExitAsync();
            var first = await Task.WhenAny(server._ready.Task, exited, Task.Delay(StartTimeout));
            if (first != server._ready.Task)
            {
                var state = server._process.HasExited ? $"exited with {server._process.ExitCode}" : "still starting";
                server.Dispose();
                await server._stdoutDone.WaitAsync(TimeSpan.FromSeconds(5));
                Assert.Fail($"serve did not finish starting within {StartTimeout.TotalSeconds} s ({state})\nstdout: {server.Stdout}\nstderr: {await server._stderr}");
            }
            return server;
        }

        /// <summary>Sends SIGTERM, as systemd and <c>docker stop</c> do, and waits for the exit.</summary>
        public async Task<Stopped> StopAsync()
        {
            var stopwatch = Stopwatch.StartNew();
            RunTool("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var result = await WaitForExitAsync(StopTimeout * 4);
            return new Stopped(result.ExitCode, stopwatch.Elapsed, result.Stdout, result.Stderr);
        }

        public async Task<CliResult> WaitForExitAsync(TimeSpan timeout)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"serve still running after {timeout.TotalSeconds} s\nstdout: {Stdout}");
            }
            await _stdoutDone;
            return new CliResult(_process.ExitCode, Stdout, await _stderr);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
