namespace Meeshkan.Agent.Tests.Contracts;

/// <summary>Durations as written for submit --timeout and --retry-delay.</summary>
[TestFixture]
public sealed class JobDurationTests
{
    [TestCase("90s", 90)]
    [TestCase("45m", 45 * 60)]
    [TestCase("2h", 2 * 3600)]
    [TestCase("1d", 86400)]
    [TestCase("1h30m", 5400)]
    [TestCase("1d2h3m4s", 86400 + 7200 + 180 + 4)]
    [TestCase("1.5h", 5400)]
    [TestCase(" 10M ", 600)]
    public void Reads_numbers_with_units(string text, int seconds)
    {
        Assert.That(JobDuration.Parse(text), Is.EqualTo(TimeSpan.FromSeconds(seconds)));
    }

    [TestCase("0", "no unit")]
    [TestCase("0s", "zero")]
    [TestCase("-5m", "negative")]
    [TestCase("abc", "not a duration")]
    [TestCase("10x", "unknown unit 'x'")]
    [TestCase("10", "no unit; write 10s, 10m, 10h or 10d")]
    [TestCase("", "empty")]
    [TestCase("5m5m", "twice")]
    [TestCase("m", "not a duration")]
    [TestCase("1.2.3s", "not a duration")]
    [TestCase("0.1s", "shorter than a second")]
    [TestCase("366d", "too long; at most 365d")]
    [TestCase("99999999999999999999d", "too long")]
    public void Refuses_what_is_not_a_positive_duration(string text, string problem)
    {
        Assert.That(JobDuration.TryParse(text, out _, out var why), Is.False);
        Assert.That(why, Does.Contain(problem));
        Assert.That(() => JobDuration.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains(problem));
    }

    [Test]
    public void Zero_is_accepted_where_allowed()
    {
        Assert.That(JobDuration.TryParse("0s", out var value, out var problem, allowZero: true), Is.True, problem);
        Assert.That(value, Is.EqualTo(TimeSpan.Zero));
        Assert.That(JobDuration.TryParse("-1s", out _, out _, allowZero: true), Is.False);
    }

    [TestCase(90, "1m30s")]
    [TestCase(7200, "2h")]
    [TestCase(86400 + 43200, "1d12h")]
    [TestCase(0, "0s")]
    [TestCase(59, "59s")]
    public void Formats_largest_units_first(int seconds, string text)
    {
        Assert.That(JobDuration.Format(TimeSpan.FromSeconds(seconds)), Is.EqualTo(text));
        Assert.That(JobDuration.Parse(text, allowZero: true), Is.EqualTo(TimeSpan.FromSeconds(seconds)));
    }

    [TestCase(90, "0-00:01:30")]
    [TestCase(2 * 86400 + 3 * 3600 + 4 * 60 + 5, "2-03:04:05")]
    public void Maps_to_slurm_time(int seconds, string slurm)
    {
        Assert.That(JobDuration.ToSlurmTime(TimeSpan.FromSeconds(seconds)), Is.EqualTo(slurm));
    }
}
