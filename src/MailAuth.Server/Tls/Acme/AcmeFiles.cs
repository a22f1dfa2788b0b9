using System.Security.Cryptography;
using MailAuth.Server.Hosting;

namespace MailAuth.Server.Tls.Acme;

/// <summary>What ACME keeps in the data directory, each file 0600: the account key, and the certificate chain with its key.</summary>
internal static class AcmeFiles
{
    public const string Directory = "tls/acme";
    public const string AccountKeyFile = Directory + "/account-key.pem";
    public const string CertificateFile = Directory + "/certificate.pem";
    public const string KeyFile = Directory + "/key.pem";

    /// <summary>The account key, made (ECDSA P-256, for ES256) the first time: the account is this key.</summary>
    public static ECDsa AccountKey(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, AccountKeyFile);
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }
        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        CreateDirectory(dataDirectory);
        PrivateFiles.Write(path, key.ExportPkcs8PrivateKeyPem());
        return key;
    }

    /// <summary>
    /// Keeps a new certificate: the key first, then the chain, each renamed into place. A reload that
    /// reads between the two sees a chain that does not match the key and keeps the certificate in use.
    /// </summary>
    public static void Store(string dataDirectory, string chainPem, ECDsa certificateKey)
    {
        CreateDirectory(dataDirectory);
        PrivateFiles.Write(Path.Combine(dataDirectory, KeyFile), certificateKey.ExportPkcs8PrivateKeyPem());
        PrivateFiles.Write(Path.Combine(dataDirectory, CertificateFile), chainPem);
    }

    private static void CreateDirectory(string dataDirectory) =>
        System.IO.Directory.CreateDirectory(Path.Combine(dataDirectory, Directory), PrivateFiles.Directory);
}
