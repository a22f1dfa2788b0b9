using MailAuth.Core.Authentication;
using MailAuth.Core.Passwords;

namespace MailAuth.Server.Hosting;

/// <summary>The <c>MailAuth</c> configuration section. Defaults match <c>config/appsettings.json</c>.</summary>
internal sealed class MailAuthOptions
{
    public const string Section = "MailAuth";

    public string DataDirectory { get; set; } = "data";

    public HashingOptions Hashing { get; set; } = new();

    public AuthenticationOptions Authentication { get; set; } = new();

    public ImapOptions Imap { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public SaslServiceOptions SaslService { get; set; } = new();

    public AuthHttpOptions AuthHttp { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    public StoreOptions Store { get; set; } = new();

    public LmtpOptions Lmtp { get; set; } = new();

    public SocketmapOptions Socketmap { get; set; } = new();

    public WebOptions Web { get; set; } = new();

    /// <summary>Address the listeners bind to; <c>*</c> means every IPv6 and IPv4 address.</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>This node's name among several on one store (a mailbox's home node); empty: the host name.</summary>
    public string NodeName { get; set; } = "";

    /// <summary>Node name → where it is reached (README "Several nodes"); empty: one node, routing by <c>AuthHttp:Backends</c>.</summary>
    public Dictionary<string, NodeOptions> Nodes { get; set; } = [];

    /// <summary>
    /// Every problem with the settings, each as one sentence naming its key: each section reports its
    /// own; what spans sections (socket paths inside the data directory) is checked here.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("MailAuth:DataDirectory is empty");
        }
        errors.AddRange(Hashing.Validate());
        errors.AddRange(Authentication.Validate());
        errors.AddRange(Imap.Validate());
        errors.AddRange(Smtp.Validate());
        if (BindAddress != "*" && !System.Net.IPAddress.TryParse(BindAddress, out _))
        {
            errors.Add($"MailAuth:BindAddress must be * or an IP address, not '{BindAddress}'");
        }
        errors.AddRange(Tls.Validate());
        errors.AddRange(SaslService.Validate());
        errors.AddRange(AuthHttp.Validate());
        errors.AddRange(Metrics.Validate(webListener: Web.Enabled));
        errors.AddRange(Store.Validate());
        errors.AddRange(Web.Validate());
        if (Tls.Acme.Enabled && Tls.Acme.Challenge == "tls-alpn-01" && !Web.Enabled)
        {
            errors.Add("MailAuth:Tls:Acme:Challenge tls-alpn-01 needs the web listener (MailAuth:Web:Port): the CA checks TLS-ALPN-01 challenges there");
        }
        else if (Tls.Acme.Enabled && Tls.Acme.Challenge != "tls-alpn-01" && (!Web.Enabled || Web.HttpPort == 0))
        {
            errors.Add("MailAuth:Tls:Acme:Enabled needs the web listener's plain-HTTP port (MailAuth:Web:Port and MailAuth:Web:HttpPort): the CA checks HTTP-01 challenges there");
        }
        CheckSocketPath(errors, "MailAuth:SaslService:SocketPath", SaslService.SocketPath);
        CheckSocketPath(errors, "MailAuth:AuthHttp:SocketPath", AuthHttp.SocketPath);
        errors.AddRange(Lmtp.Validate());
        CheckSocketPath(errors, "MailAuth:Lmtp:SocketPath", Lmtp.SocketPath);
        errors.AddRange(Socketmap.Validate());
        errors.AddRange(NodeAddress.Validate(this));
        CheckSocketPath(errors, "MailAuth:Socketmap:SocketPath", Socketmap.SocketPath);
        return errors;
    }

    /// <summary>The bytes of sun_path in <c>struct sockaddr_un</c> on Linux.</summary>
    public const int MaxUnixSocketPathBytes = 108;

    private void CheckSocketPath(List<string> errors, string key, string path)
    {
        if (string.IsNullOrEmpty(path) || string.IsNullOrWhiteSpace(DataDirectory))
        {
            return;
        }
        var full = Path.GetFullPath(Path.Combine(DataDirectory, path));
        if (System.Text.Encoding.UTF8.GetByteCount(full) > MaxUnixSocketPathBytes)
        {
            errors.Add($"{key} {full} is longer than the {MaxUnixSocketPathBytes} bytes a UNIX socket path can have");
        }
    }
}

/// <summary>Limits shared by every protocol listener; each default says why it is what it is.</summary>
internal abstract class ListenerOptions
{
    /// <summary>The configuration section, <c>MailAuth:Imap</c> or <c>MailAuth:Smtp</c>, that errors name.</summary>
    protected abstract string Section { get; }

    /// <summary>Longest command line in bytes, enforced before the line is buffered.</summary>
    public abstract int MaxLineLength { get; set; }

    /// <summary>Thunderbird and Apple Mail open up to 5 IMAP connections per account, and a family or office shares one address.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 20;

    /// <summary>Caps memory and file descriptors whatever the spread of addresses.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Time allowed for a client to complete the TLS handshake: scanners and slowloris tricks wait forever.</summary>
    public int TlsHandshakeTimeoutSeconds { get; set; } = 10;

    public TimeSpan TlsHandshakeTimeout => TimeSpan.FromSeconds(TlsHandshakeTimeoutSeconds);

    /// <summary>Time to wait for a full command before login: real clients log in at once.</summary>
    public int PreLoginIdleTimeoutSeconds { get; set; } = 60;

    public TimeSpan PreLoginIdleTimeout => TimeSpan.FromSeconds(PreLoginIdleTimeoutSeconds);

    /// <summary>Time to wait for a full command after login (RFC-given, see each protocol).</summary>
    public abstract int IdleTimeoutSeconds { get; set; }

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);

    /// <summary>Failed authentications on one connection before it is closed: a person mistyping needs two or three.</summary>
    public int MaxFailedAuthentications { get; set; } = 3;

    /// <summary>Commands accepted before login (CAPABILITY, STARTTLS, ID, NOOP…): a client needs a handful.</summary>
    public int MaxCommandsBeforeLogin { get; set; } = 30;

    /// <summary>Every problem with this section, each naming its key.</summary>
    public virtual IEnumerable<string> Validate()
    {
        var section = Section;
        if (MaxLineLength < 512)
        {
            yield return $"{section}:MaxLineLength must be at least 512 (RFC 5321 minimum), not {MaxLineLength}";
        }
        foreach (var (key, value) in new[]
        {
            ("MaxConnectionsPerAddress", MaxConnectionsPerAddress),
            ("MaxConnections", MaxConnections),
            ("TlsHandshakeTimeoutSeconds", TlsHandshakeTimeoutSeconds),
            ("PreLoginIdleTimeoutSeconds", PreLoginIdleTimeoutSeconds),
            ("IdleTimeoutSeconds", IdleTimeoutSeconds),
            ("MaxFailedAuthentications", MaxFailedAuthentications),
            ("MaxCommandsBeforeLogin", MaxCommandsBeforeLogin),
        })
        {
            if (value < 1)
            {
                yield return $"{section}:{key} must be at least 1, not {value}";
            }
        }
    }
}

internal sealed class ImapOptions : ListenerOptions
{
    protected override string Section => "MailAuth:Imap";

    /// <summary>IMAP with STARTTLS (RFC 3501); 0 disables.</summary>
    public int Port { get; set; } = 143;

    /// <summary>IMAP over implicit TLS (RFC 8314); 0 disables.</summary>
    public int TlsPort { get; set; } = 993;

    /// <summary>Long UID sets from clients with large mailboxes; Dovecot allows 64 KiB too.</summary>
    public override int MaxLineLength { get; set; } = 64 * 1024;

    /// <summary>RFC 3501 §5.4: the autologout timer is at least 30 minutes.</summary>
    public override int IdleTimeoutSeconds { get; set; } = 30 * 60;

    /// <summary>Largest literal (APPEND message) in bytes; it is streamed to disk, never held in memory.</summary>
    public long MaxLiteralSize { get; set; } = 50L * 1024 * 1024;

    /// <summary>Largest literal accepted before login (LOGIN arguments): a username and a password.</summary>
    public int MaxLiteralSizeBeforeLogin { get; set; } = 4096;

    /// <summary>
    /// Every byte of one command before login, its lines and literals together, checked as it is read
    /// (it is also the longest line before login; more gets BYE). The largest command a client may send
    /// before login is RFC 2971's ID: 30 pairs of a 30-octet field and a 1024-octet value, about 32 KiB
    /// (imaptest sends exactly that); a LOGIN with a 254-byte address and a 1024-byte password takes
    /// about 2.6 KiB even with every character quoted. 10,000 unauthenticated connections then hold
    /// at most 400 MiB of commands.
    /// </summary>
    public int MaxCommandBytesBeforeLogin { get; set; } = 40 * 1024;

    /// <summary>
    /// Search keys in one SEARCH (NOT, OR and parentheses count too): a client's quick search sends a
    /// few per word (FROM, TO, CC, SUBJECT), a few dozen in all. Each text key is one more scan of each
    /// message's text (about 0.3 ms per 5 MiB here), so 500 keys add at most 0.15 s per 5 MiB. More: NO [LIMIT].
    /// </summary>
    public int MaxSearchKeys { get; set; } = 500;

    /// <summary>
    /// Time one SEARCH may take, checked between messages and before each text comparison. A one-key
    /// TEXT search reads, parses and decodes about 125 MiB of mail a second on a 2-core machine, so 30 s
    /// covers some 3.5 GiB; past it the command ends with NO [LIMIT] instead of holding a core.
    /// </summary>
    public int MaxSearchMilliseconds { get; set; } = 30_000;

    public TimeSpan MaxSearchTime => TimeSpan.FromMilliseconds(MaxSearchMilliseconds);

    /// <summary>
    /// How often an IDLE session looks for mail delivered into new/ when its folder has no inotify
    /// watch (changes made through this server, and deliveries a watch sees, wake it at once); one
    /// second feels instant and costs one directory read. At least 100: more often would make idling
    /// sessions a steady load on the disk.
    /// </summary>
    public int IdlePollIntervalMilliseconds { get; set; } = 1000;

    public TimeSpan IdlePollInterval => TimeSpan.FromMilliseconds(IdlePollIntervalMilliseconds);

    /// <summary>
    /// Keep what message lists need (ENVELOPE, BODYSTRUCTURE, the listed header fields) in each
    /// folder's <c>mailauth-headercache</c>, so that listing or header-searching a folder opens no
    /// message file once filled; off reads every message file each time.
    /// </summary>
    public bool HeaderCache { get; set; } = true;

    /// <summary>The shared listener limits, then IMAP's own.</summary>
    public override IEnumerable<string> Validate()
    {
        var errors = new List<string?>
        {
            OptionRules.Port(Section + ":Port", Port),
            OptionRules.Port(Section + ":TlsPort", TlsPort),
        };
        errors.AddRange(base.Validate());
        errors.Add(OptionRules.AtLeast(Section + ":MaxLiteralSize", MaxLiteralSize, 1));
        errors.Add(OptionRules.AtLeast(Section + ":MaxLiteralSizeBeforeLogin", MaxLiteralSizeBeforeLogin, 1));
        errors.Add(OptionRules.AtLeast(Section + ":MaxSearchKeys", MaxSearchKeys, 1));
        errors.Add(OptionRules.AtLeast(Section + ":MaxSearchMilliseconds", MaxSearchMilliseconds, 1));
        if (MaxCommandBytesBeforeLogin < 1024)
        {
            errors.Add($"{Section}:MaxCommandBytesBeforeLogin must be at least 1024 (a LOGIN and its arguments), not {MaxCommandBytesBeforeLogin}");
        }
        errors.Add(OptionRules.AtLeast(Section + ":IdlePollIntervalMilliseconds", IdlePollIntervalMilliseconds, 100));
        return errors.OfType<string>();
    }
}

internal sealed class SmtpOptions : ListenerOptions
{
    protected override string Section => "MailAuth:Smtp";

    /// <summary>Submission with STARTTLS (RFC 6409); 0 disables.</summary>
    public int SubmissionPort { get; set; } = 587;

    /// <summary>Submission over implicit TLS (RFC 8314); 0 disables.</summary>
    public int SubmissionsPort { get; set; } = 465;

    /// <summary>host:port of a smarthost for non-local recipients; empty refuses them.</summary>
    public string RelayHost { get; set; } = "";

    /// <summary>RFC 5321 §4.5.3.1.4 sets 512 for command lines and §4.5.3.1.6 1000 for text lines; AUTH PLAIN lines run longer.</summary>
    public override int MaxLineLength { get; set; } = 4096;

    /// <summary>RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.</summary>
    public override int IdleTimeoutSeconds { get; set; } = 5 * 60;

    /// <summary>Advertised with SIZE (RFC 1870) and enforced while the message streams to disk.</summary>
    public long MaxMessageSize { get; set; } = 50L * 1024 * 1024;

    /// <summary>RFC 5321 §4.5.3.1.8 requires at least 100.</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Our name in the greeting, the EHLO reply and Received headers; empty takes the machine's host name.</summary>
    public string HostName { get; set; } = "";

    /// <summary>Longest wait for any one step with the relay host (connect, a reply, a write): RFC 5321 §4.5.3.2 allows up to 10 minutes per step; a submitting client should not wait that long.</summary>
    public int RelayTimeoutSeconds { get; set; } = 60;

    public TimeSpan RelayTimeout => TimeSpan.FromSeconds(RelayTimeoutSeconds);

    /// <summary>The shared listener limits, then submission's own.</summary>
    public override IEnumerable<string> Validate()
    {
        var errors = new List<string?>
        {
            OptionRules.Port(Section + ":SubmissionPort", SubmissionPort),
            OptionRules.Port(Section + ":SubmissionsPort", SubmissionsPort),
        };
        errors.AddRange(base.Validate());
        errors.Add(OptionRules.AtLeast(Section + ":MaxMessageSize", MaxMessageSize, 1));
        if (MaxRecipients < 100)
        {
            errors.Add($"{Section}:MaxRecipients must be at least 100 (RFC 5321 §4.5.3.1.8), not {MaxRecipients}");
        }
        errors.Add(OptionRules.AtLeast(Section + ":RelayTimeoutSeconds", RelayTimeoutSeconds, 1));
        if (HostName.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-')))
        {
            errors.Add($"{Section}:HostName must be a host name like mail.example.org, not '{HostName}'");
        }
        if (RelayHost.Length > 0 && !Smtp.Delivery.RelayEndpoint.TryParse(RelayHost, out _))
        {
            errors.Add($"{Section}:RelayHost must be host:port (or [IPv6]:port), not '{RelayHost}'");
        }
        return errors.OfType<string>();
    }
}

internal sealed class TlsOptions
{
    public string CertificateFile { get; set; } = "";

    public string KeyFile { get; set; } = "";

    /// <summary>
    /// Networks from which LOGIN/AUTH PLAIN may be used without TLS. Loopback only by default:
    /// a password in clear text on any other network can be read by anyone on the path. Null
    /// until configured, because the configuration binder appends to an array that has items,
    /// so a default here could never be narrowed; see <see cref="EffectivePlaintextAuthNetworks"/>.
    /// </summary>
    public string[]? PlaintextAuthNetworks { get; set; }

    public IReadOnlyList<string> EffectivePlaintextAuthNetworks => PlaintextAuthNetworks ?? ["127.0.0.0/8", "::1/128"];

    public AcmeOptions Acme { get; set; } = new();

    public IEnumerable<string> Validate()
    {
        foreach (var network in EffectivePlaintextAuthNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                yield return $"MailAuth:Tls:PlaintextAuthNetworks: '{network}' is not a network like 192.0.2.0/24";
            }
        }
        if (string.IsNullOrEmpty(CertificateFile) != string.IsNullOrEmpty(KeyFile))
        {
            yield return "MailAuth:Tls:CertificateFile and MailAuth:Tls:KeyFile must be set together";
        }
        foreach (var error in Acme.Validate(this))
        {
            yield return error;
        }
    }
}

/// <summary>The Dovecot-compatible auth service for Postfix (<c>smtpd_sasl_type = dovecot</c>).</summary>
internal sealed class SaslServiceOptions
{
    /// <summary>UNIX socket (mode 0660); relative paths are in the data directory; empty turns it off.</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>TCP port on 127.0.0.1 only (the client reports rip); 0 turns it off. Callers are told apart by the uid owning their socket.</summary>
    public int TcpPort { get; set; }

    /// <summary>PLAIN and LOGIN carry the password in clear: refused unless the MTA says the session is TLS (secured).</summary>
    public bool AllowPlaintextWithoutTls { get; set; }

    /// <summary>Dovecot's own AUTH_CLIENT_MAX_LINE_LENGTH (16 KiB); an AUTH PLAIN line needs well under 2 KiB.</summary>
    public int MaxLineLength { get; set; } = 16 * 1024;

    /// <summary>One connection per smtpd process: Postfix's default process limit is 100 per service.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Requests waiting for a CONT on one connection: an smtpd serves one SMTP client at a time.</summary>
    public int MaxPendingRequests { get; set; } = 16;

    /// <summary>Time for a client to send VERSION and CPID: Postfix sends them at once on connecting.</summary>
    public int HandshakeTimeoutSeconds { get; set; } = 10;

    public TimeSpan HandshakeTimeout => TimeSpan.FromSeconds(HandshakeTimeoutSeconds);

    /// <summary>
    /// Users (names or numeric uids) whose processes may connect, on the socket and the TCP port,
    /// besides root and the server's own user: a caller reports rip, which the throttle and the
    /// log believe. Null until configured (the binder appends to an array that has items), then
    /// <see cref="DefaultAllowedUsers"/> where they exist.
    /// </summary>
    public string[]? AllowedUsers { get; set; }

    /// <summary>Postfix's smtpd runs as <c>postfix</c> (mail_owner).</summary>
    public static readonly string[] DefaultAllowedUsers = ["postfix"];

    /// <summary>
    /// Whether <c>MailAuth:Authentication:TrustedNetworks</c> exempt a rip from the throttle. Off: a
    /// trusted address reported by the caller would turn off the throttle for every guess sent with it.
    /// </summary>
    public bool TrustedNetworksApply { get; set; }

    public IEnumerable<string> Validate()
    {
        foreach (var error in Protocol.AllowedCallers.Validate("MailAuth:SaslService:AllowedUsers", AllowedUsers))
        {
            yield return error;
        }
        if (TcpPort is < 0 or > 65535)
        {
            yield return $"MailAuth:SaslService:TcpPort must be between 0 (disabled) and 65535, not {TcpPort}";
        }
        if (MaxLineLength < 1024)
        {
            yield return $"MailAuth:SaslService:MaxLineLength must be at least 1024, not {MaxLineLength}";
        }
        foreach (var (key, value) in new[]
        {
            ("MaxConnections", MaxConnections),
            ("MaxPendingRequests", MaxPendingRequests),
            ("HandshakeTimeoutSeconds", HandshakeTimeoutSeconds),
        })
        {
            if (value < 1)
            {
                yield return $"MailAuth:SaslService:{key} must be at least 1, not {value}";
            }
        }
    }
}

/// <summary>LMTP delivery (RFC 2033) for the MTA in front: Postfix's <c>virtual_transport = lmtp:…</c>.</summary>
internal sealed class LmtpOptions
{
    private const string Section = "MailAuth:Lmtp";

    /// <summary>UNIX socket (mode 0660); relative paths are in the data directory; empty turns it off.</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>TCP port on 127.0.0.1 only: the caller is the MTA, trusted with the envelope; 0 turns it off.</summary>
    public int TcpPort { get; set; }

    /// <summary>TCP port on <c>MailAuth:BindAddress</c> for the other nodes' hand-overs, served only to <c>MailAuth:Nodes</c> addresses; 0 turns it off.</summary>
    public int NodePort { get; set; }

    /// <summary>
    /// Users (names or numeric uids) whose processes may connect, besides root and the server's own
    /// user: whoever connects can put mail in any mailbox. Null until configured (the binder
    /// appends to an array that has items), then <see cref="DefaultAllowedUsers"/> where they exist.
    /// </summary>
    public string[]? AllowedUsers { get; set; }

    /// <summary>Postfix's lmtp client runs as <c>postfix</c> (mail_owner).</summary>
    public static readonly string[] DefaultAllowedUsers = ["postfix"];

    /// <summary>RFC 5321 §4.5.3.1.4 sets 512 for command lines; Postfix's longest (MAIL with SIZE, BODY, SMTPUTF8) is far shorter.</summary>
    public int MaxLineLength { get; set; } = 4096;

    /// <summary>Advertised with SIZE (RFC 1870); keep it at least Postfix's message_size_limit (10240000 by default).</summary>
    public long MaxMessageSize { get; set; } = 50L * 1024 * 1024;

    /// <summary>RFC 5321 §4.5.3.1.8 requires at least 100; Postfix sends at most lmtp_destination_recipient_limit (50).</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command or data block.</summary>
    public int IdleTimeoutSeconds { get; set; } = 5 * 60;

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);

    /// <summary>One connection per lmtp delivery agent: Postfix's default process limit is 100 per service.</summary>
    public int MaxConnections { get; set; } = 1000;

    public IEnumerable<string> Validate()
    {
        var errors = new List<string?>
        {
            OptionRules.Port(Section + ":TcpPort", TcpPort),
            OptionRules.Port(Section + ":NodePort", NodePort),
            OptionRules.AtLeast(Section + ":MaxMessageSize", MaxMessageSize, 1),
            OptionRules.AtLeast(Section + ":IdleTimeoutSeconds", IdleTimeoutSeconds, 1),
            OptionRules.AtLeast(Section + ":MaxConnections", MaxConnections, 1),
        };
        errors.AddRange(Protocol.AllowedCallers.Validate(Section + ":AllowedUsers", AllowedUsers));
        if (MaxLineLength < 512)
        {
            errors.Add($"{Section}:MaxLineLength must be at least 512 (RFC 5321 minimum), not {MaxLineLength}");
        }
        if (MaxRecipients < 100)
        {
            errors.Add($"{Section}:MaxRecipients must be at least 100 (RFC 5321 §4.5.3.1.8), not {MaxRecipients}");
        }
        return errors.OfType<string>();
    }
}

/// <summary>Postfix socketmap lookups (socketmap_table(5)): hosted domains, mailboxes, sender owners.</summary>
internal sealed class SocketmapOptions
{
    private const string Section = "MailAuth:Socketmap";

    /// <summary>UNIX socket (mode 0660); relative paths are in the data directory; empty turns it off.</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>TCP port on 127.0.0.1 only; 0 turns it off.</summary>
    public int TcpPort { get; set; }

    /// <summary>As <see cref="LmtpOptions.AllowedUsers"/>: the answers say which mailboxes exist.</summary>
    public string[]? AllowedUsers { get; set; }

    /// <summary>Postfix's smtpd, trivial-rewrite and proxymap run as <c>postfix</c>.</summary>
    public static readonly string[] DefaultAllowedUsers = ["postfix"];

    /// <summary>Longest request (<c>name key</c>) in bytes: an address is at most 254 octets, a domain 253.</summary>
    public int MaxRequestLength { get; set; } = 1024;

    /// <summary>Postfix's socketmap client keeps a connection per process and closes it after 100 s idle.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>A connection with no request for this long is closed (Postfix reconnects when it needs to).</summary>
    public int IdleTimeoutSeconds { get; set; } = 300;

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);

    public IEnumerable<string> Validate()
    {
        var errors = new List<string?>
        {
            OptionRules.Port(Section + ":TcpPort", TcpPort),
            OptionRules.AtLeast(Section + ":MaxRequestLength", MaxRequestLength, 300),
            OptionRules.AtLeast(Section + ":MaxConnections", MaxConnections, 1),
            OptionRules.AtLeast(Section + ":IdleTimeoutSeconds", IdleTimeoutSeconds, 1),
        };
        errors.AddRange(Protocol.AllowedCallers.Validate(Section + ":AllowedUsers", AllowedUsers));
        return errors.OfType<string>();
    }
}
