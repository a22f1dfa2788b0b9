using System.Runtime.InteropServices;

namespace MailAuth.Server.Protocol;

/// <summary>
/// The system's user database through libc (getpwnam_r, getpwuid_r), so that users from NSS
/// sources other than /etc/passwd (LDAP, systemd-userdb) are found as <c>id</c> finds them.
/// </summary>
internal static partial class UnixUsers
{
    private const int ERange = 34;

    /// <summary>The effective uid of this process: the user the server runs as.</summary>
    public static uint EffectiveUserId => GetEffectiveUserId();

    /// <summary>The uid of the user named <paramref name="name"/>, or null when there is no such user.</summary>
    public static unsafe uint? UserIdOf(string name)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        return Lookup((entry, buffer, length, result) => GetPasswordEntryByName(name, entry, buffer, length, result))?.UserId;
    }

    /// <summary>The name of the user with <paramref name="userId"/>, or null when it has none.</summary>
    public static unsafe string? NameOf(uint userId) =>
        Lookup((entry, buffer, length, result) => GetPasswordEntryById(userId, entry, buffer, length, result))?.Name;

    private unsafe delegate int PasswordLookup(PasswordEntry* entry, byte* buffer, nuint length, PasswordEntry** result);

    /// <summary>Runs a *_r lookup with a buffer that grows while libc says it is too small.</summary>
    private static unsafe (uint UserId, string Name)? Lookup(PasswordLookup lookup)
    {
        for (var size = 1024; size <= 1024 * 1024; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* bytes = buffer)
            {
                PasswordEntry entry;
                PasswordEntry* result = null;
                var status = lookup(&entry, bytes, (nuint)size, &result);
                if (status == ERange)
                {
                    continue;
                }
                // Not found is 0 with no result; ENOENT, ESRCH and the like also mean not found (getpwnam_r(3)).
                // The strings point into the buffer, so they are read while it is pinned.
                return status == 0 && result != null ? (entry.UserId, Marshal.PtrToStringUTF8(entry.Name) ?? "") : null;
            }
        }
        return null;
    }

    /// <summary><c>struct passwd</c> of glibc and musl on Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PasswordEntry
    {
        public nint Name;
        public nint Password;
        public uint UserId;
        public uint GroupId;
        public nint Gecos;
        public nint Home;
        public nint Shell;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int GetPasswordEntryByName(string name, PasswordEntry* entry, byte* buffer, nuint length, PasswordEntry** result);

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    private static unsafe partial int GetPasswordEntryById(uint userId, PasswordEntry* entry, byte* buffer, nuint length, PasswordEntry** result);
}
