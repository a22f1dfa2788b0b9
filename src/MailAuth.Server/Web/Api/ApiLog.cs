using System.Net;
using Microsoft.Extensions.Logging;

namespace MailAuth.Server.Web.Api;

/// <summary>
/// One log line per change made through the manager API, with the client address (the audit log
/// in the store has the change itself, with the same address). Never a password, code or token.
/// </summary>
internal sealed partial class ApiLog(ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<ApiLog>();

    public void Change(string operation, string identifier, IPAddress remote, string result) => LogChange(operation, identifier, remote, result);

    [LoggerMessage(EventId = 1800, Level = LogLevel.Information, Message = "api {Operation} identifier={Identifier} remote={Remote} result={Result}")]
    private partial void LogChange(string operation, string identifier, IPAddress remote, string result);
}
