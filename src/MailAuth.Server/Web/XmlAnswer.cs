using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace MailAuth.Server.Web;

/// <summary>Writes an XML document as UTF-8 with its declaration, and reads one without DTDs or entities.</summary>
internal static class XmlAnswer
{
    private static readonly XmlWriterSettings WriterSettings = new()
    {
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        Indent = true,
        Async = true,
    };

    public static async Task WriteAsync(HttpContext context, XDocument document, string contentType, int status = StatusCodes.Status200OK)
    {
        using var buffer = new MemoryStream();
        await using (var writer = XmlWriter.Create(buffer, WriterSettings))
        {
            await document.SaveAsync(writer, context.RequestAborted);
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    /// <summary>
    /// The request body as XML, or null when it is not well-formed. No DTD, no external entity
    /// (XXE); Kestrel has already cut the body at <c>MailAuth:Web:MaxRequestBodyBytes</c>.
    /// </summary>
    public static async Task<XDocument?> ReadAsync(HttpContext context)
    {
        var settings = new XmlReaderSettings
        {
            Async = true,
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
        };
        try
        {
            using var reader = XmlReader.Create(context.Request.Body, settings);
            return await XDocument.LoadAsync(reader, LoadOptions.None, context.RequestAborted);
        }
        catch (XmlException)
        {
            return null;
        }
    }
}
