// Most Server tests wait on a child `mailauth serve` or a socket, not on the CPU: fixtures run side
// by side. Fixtures that need the machine to themselves (memory or timing measurements, fixed
// system ports, shared external daemons) are marked [NonParallelizable].
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
