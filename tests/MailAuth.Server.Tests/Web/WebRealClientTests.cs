using MailAuth.Server.Tests.Imap;
using MailAuth.Server.Tests.Observability;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Issue 19 with real clients: Python (urllib, ElementTree, plistlib) reads the answers as the mail
/// clients do, curl fetches Thunderbird's plain-HTTP try, and OpenSSL verifies the profile's CMS signature.
/// </summary>
[TestFixture]
[Category("External")]
public sealed class WebRealClientTests
{
    private const string Script = """
        import base64, plistlib, ssl, subprocess, sys, urllib.request, xml.etree.ElementTree as ET
        port, address, password, certificate, profile = sys.argv[1:6]
        context = ssl.create_default_context(cafile=certificate)
        context.check_hostname = False
        base = f"https://127.0.0.1:{port}"

        # Thunderbird: the fields its autoconfig reader takes from each server.
        with urllib.request.urlopen(f"{base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={address}", context=context) as r:
            config = ET.fromstring(r.read())
        provider = config.find("emailProvider")
        print("provider", config.get("version"), provider.get("id"), provider.findtext("domain"))
        for kind in ("incomingServer", "outgoingServer"):
            for s in provider.findall(kind):
                print(kind, s.get("type"), s.findtext("hostname"), s.findtext("port"), s.findtext("socketType"), s.findtext("username"), s.findtext("authentication"))

        # Outlook: the POX request it posts, the response schema's names.
        body = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
                f'<Request><EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>')
        request = urllib.request.Request(f"{base}/Autodiscover/Autodiscover.xml", data=body.encode(), headers={"Content-Type": "text/xml"}, method="POST")
        with urllib.request.urlopen(request, context=context) as r:
            answer = ET.fromstring(r.read())
        ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006", "a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        print("autodiscover", answer.tag == "{%s}Autodiscover" % ns["r"], answer.findtext("a:Response/a:Account/a:AccountType", namespaces=ns), answer.findtext("a:Response/a:Account/a:Action", namespaces=ns))
        for p in answer.findall("a:Response/a:Account/a:Protocol", ns):
            print("protocol", *(p.findtext("a:" + name, namespaces=ns) for name in ("Type", "Server", "Port", "LoginName", "SPA", "SSL", "AuthRequired")))

        # Apple: the profile after HTTP Basic; its signature verified by OpenSSL, its content a plist.
        credentials = base64.b64encode(f"{address}:{password}".encode()).decode()
        request = urllib.request.Request(f"{base}/apple/mailbox.mobileconfig", headers={"Authorization": "Basic " + credentials})
        with urllib.request.urlopen(request, context=context) as r:
            print("profile", r.headers["Content-Type"])
            open(profile, "wb").write(r.read())
        verified = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", profile, "-CAfile", certificate, "-purpose", "any"], capture_output=True)
        print("cms", verified.returncode, verified.stderr.decode().strip())
        plist = plistlib.loads(verified.stdout)
        mail = plist["PayloadContent"][0]
        print("plist", plist["PayloadType"], mail["PayloadType"], mail["EmailAccountType"], mail["EmailAddress"], mail["IncomingMailServerHostName"],
              mail["IncomingMailServerPortNumber"], mail["IncomingMailServerUseSSL"], mail["OutgoingMailServerPortNumber"], "IncomingPassword" in mail)
        """;

    [Test]
    public async Task PythonReadsEveryAnswerAsTheClientsDoAndOpenSslVerifiesTheSignedProfile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "mailauth-web-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var script = ExternalClient.WriteScript(Script);
        try
        {
            var (certificate, key) = TestCertificates.Write(directory, WebServer.HostName, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
            await using var web = await WebServer.StartAsync(new Dictionary<string, string>
            {
                ["MailAuth__Tls__CertificateFile"] = certificate,
                ["MailAuth__Tls__KeyFile"] = key,
            });
            var server = web.Server;
            var result = await ExternalClient.RunAsync("python3", script, web.HttpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                WebServer.Address, WebServer.Password, certificate, Path.Combine(directory, "profile.mobileconfig"));
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            var host = WebServer.HostName;
            Assert.That(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
            {
                "provider 1.1 example.org example.org",
                $"incomingServer imap {host} {server.ImapsPort} SSL %EMAILADDRESS% password-cleartext",
                $"incomingServer imap {host} {server.ImapPort} STARTTLS %EMAILADDRESS% password-cleartext",
                $"outgoingServer smtp {host} {server.SubmissionsPort} SSL %EMAILADDRESS% password-cleartext",
                $"outgoingServer smtp {host} {server.SubmissionPort} STARTTLS %EMAILADDRESS% password-cleartext",
                "autodiscover True email settings",
                $"protocol IMAP {host} {server.ImapsPort} {WebServer.Address} off on on",
                $"protocol SMTP {host} {server.SubmissionsPort} {WebServer.Address} off on on",
                "profile application/x-apple-aspen-config",
                "cms 0 CMS Verification successful",
                $"plist Configuration com.apple.mail.managed EmailTypeIMAP {WebServer.Address} {host} {server.ImapsPort} True {server.SubmissionsPort} False",
            }));

            // Thunderbird's first try is plain HTTP on autoconfig.DOMAIN; everything else there is sent to HTTPS.
            var http = web.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var plain = await ExternalClient.RunAsync("curl", "-sS", "-H", "Host: autoconfig.example.org",
                $"http://127.0.0.1:{http}/mail/config-v1.1.xml?emailaddress=alice%40example.org");
            Assert.That(plain.Stdout, Does.Contain($"<port>{server.ImapsPort}</port>"), plain.ToString());
            var redirect = await ExternalClient.RunAsync("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                "-H", "Host: mail.example.net", $"http://127.0.0.1:{http}/apple/mailbox.mobileconfig");
            Assert.That(redirect.Stdout, Is.EqualTo($"308 https://mail.example.net:{web.HttpsPort}/apple/mailbox.mobileconfig"));
            // The HTTPS port presents the configured certificate.
            var tls = await ExternalClient.RunAsync("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificate,
                "--resolve", $"{host}:{web.HttpsPort}:127.0.0.1", $"https://{host}:{web.HttpsPort}/healthz");
            Assert.That(tls.Stdout, Is.EqualTo("404"), tls.ToString());
        }
        finally
        {
            File.Delete(script);
            Directory.Delete(directory, recursive: true);
        }
    }
}
