using Npgsql;

namespace MailAuth.Core.Storage;

/// <summary>Checks a PostgreSQL connection string for the configuration check, in Core so that the executable needs no provider.</summary>
public static class PostgresConnectionString
{
    /// <param name="passwordAllowed">False where the text may be seen by others (a shared settings file): the password goes elsewhere.</param>
    public static IReadOnlyList<string> Check(string connectionString, bool passwordAllowed)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            return [$"is not a valid connection string: {e.Message}"];
        }
        var problems = new List<string>();
        if (string.IsNullOrEmpty(builder.Host))
        {
            problems.Add("names no Host");
        }
        if (string.IsNullOrEmpty(builder.Database))
        {
            problems.Add("names no Database");
        }
        if (!passwordAllowed && !string.IsNullOrEmpty(builder.Password))
        {
            problems.Add("holds a password: put the whole string in MailAuth:Store:ConnectionStringFile (mode 0600), or the password in PGPASSWORD or a passfile");
        }
        return problems;
    }
}
