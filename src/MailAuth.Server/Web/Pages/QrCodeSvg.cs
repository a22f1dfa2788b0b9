using System.Globalization;
using System.Text;
using QRCoder;

namespace MailAuth.Server.Web.Pages;

/// <summary>
/// A QR code as inline SVG markup: one path of unit squares, attributes only. No <c>style</c>
/// attribute or element and no <c>data:</c> URI, so the pages' Content-Security-Policy
/// (<c>default-src 'none'; style-src 'self'; img-src 'self'</c>) allows it unchanged.
/// </summary>
internal static class QrCodeSvg
{
    public static string Render(string text, string label)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        // The matrix includes QRCoder's quiet zone (4 modules each side, ISO/IEC 18004 §6.3.8).
        var modules = data.ModuleMatrix;
        var size = modules.Count;
        var path = new StringBuilder();
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                if (modules[y][x])
                {
                    path.Append(CultureInfo.InvariantCulture, $"M{x} {y}h1v1h-1z");
                }
            }
        }
        return $"<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"{size * 6}\" height=\"{size * 6}\" " +
               $"role=\"img\" aria-label=\"{HtmlPage.Encode(label)}\" shape-rendering=\"crispEdges\">" +
               $"<rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>";
    }
}
