using System.Net;
using System.Net.Sockets;
using MailAuth.Server.Tests.Imap;

namespace MailAuth.Server.Tests.AuthHttp;

/// <summary>
/// A private instance of Debian's real nginx with libnginx-mod-mail (<c>test.sh</c> installs them):
/// its own configuration, error log and pid file in <see cref="Directory"/>, an IMAP server on a TLS
/// port and one on a plain port (both loopback), asking <c>auth_http</c> on a loopback port with
/// the shared secret, as README shows it.
/// </summary>
internal sealed class NginxMailProxy : IAsyncDisposable
{
    private NginxMailProxy(string directory, int tlsPort, int plainPort)
    {
        Directory = directory;
        TlsPort = tlsPort;
        PlainPort = plainPort;
    }

    public string Directory { get; }

    public int TlsPort { get; }

    public int PlainPort { get; }

    private string ErrorLogPath => Path.Combine(Directory, "error.log");

    private string ConfigurationPath => Path.Combine(Directory, "nginx.conf");

    public string ErrorLog => File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "(no error log)";

    /// <summary>Starts nginx in <paramref name="directory"/> with the certificate and key in <paramref name="tlsDirectory"/>, and waits for its TLS port.</summary>
    public static async Task<NginxMailProxy> StartAsync(string directory, int authHttpPort, string secret, string tlsDirectory)
    {
        Assert.That(File.Exists("/usr/sbin/nginx"), Is.True, "nginx is not installed; ./test.sh installs it");
        Assert.That(File.Exists("/usr/lib/nginx/modules/ngx_mail_module.so"), Is.True, "libnginx-mod-mail is not installed; ./test.sh installs it");
        System.IO.Directory.CreateDirectory(directory);
        var proxy = new NginxMailProxy(directory, RunningServer.FreePort(), RunningServer.FreePort());
        // The mail {} block as README shows it, on test ports, with the worker user of Debian's
        // /etc/nginx/nginx.conf (without it nginx's workers run as nobody, whom MailAuth does not answer).
        await File.WriteAllTextAsync(proxy.ConfigurationPath, $$"""
            load_module /usr/lib/nginx/modules/ngx_mail_module.so;
            user www-data;
            worker_processes 1;
            error_log {{proxy.ErrorLogPath}} info;
            pid {{directory}}/nginx.pid;
            events { worker_connections 64; }
            mail {
                server_name mail.family.example;
                auth_http 127.0.0.1:{{authHttpPort}}/auth;
                auth_http_header X-MailAuth-Secret "{{secret}}";
                ssl_certificate {{tlsDirectory}}/certificate.pem;
                ssl_certificate_key {{tlsDirectory}}/key.pem;
                imap_capabilities IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS MOVE NAMESPACE UNSELECT SPECIAL-USE CHILDREN;
                server {
                    listen 127.0.0.1:{{proxy.TlsPort}} ssl;
                    protocol imap;
                }
                server {
                    listen 127.0.0.1:{{proxy.PlainPort}};
                    protocol imap;
                }
            }

            """);
        var start = await ExternalClient.RunAsync("/usr/sbin/nginx", "-c", proxy.ConfigurationPath, "-e", proxy.ErrorLogPath);
        Assert.That(start.ExitCode, Is.Zero, $"nginx: {start}\n{proxy.ErrorLog}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, proxy.TlsPort);
                return proxy;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(Directory, "nginx.pid")))
        {
            await ExternalClient.RunAsync("/usr/sbin/nginx", "-c", ConfigurationPath, "-e", ErrorLogPath, "-s", "stop");
        }
    }
}
