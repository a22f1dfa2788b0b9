using MailAuth.Core.Passwords;

namespace MailAuth.Core.Tests.Passwords;

[TestFixture]
internal sealed class SensitiveUtf8Tests
{
    [Test]
    public void EncodesAsNulTerminatedUtf8AndWipesTheBufferOnDispose()
    {
        Span<byte> stack = stackalloc byte[64];
        byte[] encoded, terminated;
        var secret = new SensitiveUtf8("pä日", stack);
        try
        {
            encoded = secret.Bytes.ToArray();
            terminated = secret.NulTerminated.ToArray();
        }
        finally
        {
            secret.Dispose();
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(encoded, Is.EqualTo(new byte[] { 0x70, 0xC3, 0xA4, 0xE6, 0x97, 0xA5 }));
            Assert.That(terminated, Is.EqualTo(new byte[] { 0x70, 0xC3, 0xA4, 0xE6, 0x97, 0xA5, 0 }));
            Assert.That(stack.ToArray(), Has.All.EqualTo(0));
        }
    }

    [Test]
    public void RentsWhenTheStackBufferIsTooSmall()
    {
        string text = new('x', 100);
        Span<byte> stack = stackalloc byte[8];
        stack.Fill(0xAA);
        using var secret = new SensitiveUtf8(text, stack);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(secret.Length, Is.EqualTo(100));
            Assert.That(secret.NulTerminated[100], Is.Zero);
            Assert.That(stack.ToArray(), Has.All.EqualTo(0xAA), "the small stack buffer is left untouched");
        }
    }
}
