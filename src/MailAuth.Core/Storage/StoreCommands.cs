using System.Data;
using System.Data.Common;

namespace MailAuth.Core.Storage;

/// <summary>Parameters in the form both providers read: <c>@name</c>, a null as <see cref="DBNull"/>.</summary>
internal static class StoreCommands
{
    public static DbParameter AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>A parameter whose value is set for each execution of a prepared command.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
