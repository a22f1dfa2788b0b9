using System.Runtime.CompilerServices;

// The Argon2 benchmark (bench/MailAuth.Bench) measures the real PasswordHasher. Declared here rather
// than in MailAuth.Core.csproj because this folder is where the hasher lives; the csproj's
// <InternalsVisibleTo> items would work just as well.
[assembly: InternalsVisibleTo("MailAuth.Bench")]
