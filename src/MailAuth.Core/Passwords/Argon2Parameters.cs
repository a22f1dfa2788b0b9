namespace MailAuth.Core.Passwords;

/// <summary>The cost parameters of an Argon2 PHC string: <c>m=MemoryKiB,t=Iterations,p=Parallelism</c>.</summary>
internal readonly record struct Argon2Parameters(int MemoryKiB, int Iterations, int Parallelism);
