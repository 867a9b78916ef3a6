// Each fixture has its own MEESHKAN_HOME and agent, and most of a test's time is spent waiting for
// processes: fixtures run side by side.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
