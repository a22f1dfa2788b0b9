using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace MailAuth.Core.Tests.Storage;

/// <summary>
/// One real PostgreSQL 15 for the whole test run, started on first use: <c>initdb</c> into a
/// temporary directory as the <c>postgres</c> user, <c>pg_ctl</c> on a free loopback port with a
/// private socket directory, stopped and removed by <see cref="PostgresTestServerTeardown"/>.
/// Each caller gets a schema of its own.
/// </summary>
internal static class PostgresTestServer
{
    private const string Binaries = "/usr/lib/postgresql/15/bin";

    private static readonly Lock Gate = new();
    private static string? _directory;
    private static int _port;
    private static string _options = "";

    public static bool Started => _directory is not null;

    /// <summary>A connection string whose search path is a new, empty schema.</summary>
    public static string CreateSchema()
    {
        EnsureStarted();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = schema }.ToString();
    }

    /// <summary>Deletes every row of a schema's store tables and restarts their identities, as after its first migration.</summary>
    public static void Empty(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var tables = new List<string>();
        using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT IN ('mailauth_schema', 'mailbox_changes_pruned')",
            connection))
        using (var reader = list.ExecuteReader())
        {
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        if (tables.Count == 0)
        {
            return;
        }
        using var empty = new NpgsqlCommand(
            $"TRUNCATE {string.Join(", ", tables)} RESTART IDENTITY CASCADE; UPDATE mailbox_changes_pruned SET position = 0", connection);
        empty.ExecuteNonQuery();
    }

    public static string AdminConnectionString =>
        $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=10";

    private static void EnsureStarted()
    {
        lock (Gate)
        {
            if (_directory is not null)
            {
                return;
            }
            var directory = Path.Combine(Path.GetTempPath(), "mailauth-pg-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            Run("chown", "postgres:postgres", directory);
            var data = Path.Combine(directory, "data");
            var sockets = Path.Combine(directory, "sockets");
            AsPostgres("mkdir", sockets);
            AsPostgres($"{Binaries}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync");
            var port = FreePort();
            // A test server: durability is not what is being tested, speed is.
            _options = $"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
            AsPostgres($"{Binaries}/pg_ctl", "-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-o", _options, "start");
            _directory = directory;
            _port = port;
        }
    }

    /// <summary>
    /// Stops the server as an outage would (every connection cut), keeping its data: <see cref="Resume"/>
    /// starts it again on the same port. For tests of what clients of the store do meanwhile.
    /// </summary>
    public static void Pause()
    {
        lock (Gate)
        {
            // The server runs with synchronous_commit=off: an immediate stop would lose the last
            // commits still in its WAL buffers (a mailbox added just before). A checkpoint writes them out.
            using (var connection = new NpgsqlConnection(AdminConnectionString))
            {
                connection.Open();
                using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
                checkpoint.ExecuteNonQuery();
            }
            NpgsqlConnection.ClearPool(new NpgsqlConnection(AdminConnectionString));
            AsPostgres($"{Binaries}/pg_ctl", "-D", Path.Combine(_directory!, "data"), "-m", "immediate", "-w", "stop");
        }
    }

    public static void Resume()
    {
        lock (Gate)
        {
            AsPostgres($"{Binaries}/pg_ctl", "-D", Path.Combine(_directory!, "data"), "-l", Path.Combine(_directory!, "server.log"), "-w", "-o", _options, "start");
            // The pooled connections of this process died with the old server; later fixtures need fresh ones.
            NpgsqlConnection.ClearAllPools();
        }
    }

    public static void Stop()
    {
        lock (Gate)
        {
            if (_directory is null)
            {
                return;
            }
            NpgsqlConnection.ClearAllPools();
            AsPostgres($"{Binaries}/pg_ctl", "-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop");
            Directory.Delete(_directory, recursive: true);
            _directory = null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void AsPostgres(params string[] command) => Run("runuser", ["-u", "postgres", "--", .. command]);

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {error}{output.Result}");
        }
    }
}
