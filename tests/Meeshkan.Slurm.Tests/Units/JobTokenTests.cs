using Meeshkan.Agent.Remote;

namespace Meeshkan.Slurm.Tests.Units;

public sealed class JobTokenTests
{
    private string _root = "";

    [SetUp]
    public void CreateHome() => _root = Directory.CreateTempSubdirectory("mkt-").FullName;

    [TearDown]
    public void RemoveHome() => Directory.Delete(_root, true);

    [Test]
    public void A_token_names_its_job_and_holds_after_a_restart()
    {
        var home = new MeeshkanHome(_root);
        var token = new JobToken(home).Issue("job-a");

        Assert.That(token, Does.StartWith("mkjob.job-a."));
        Assert.That(new JobToken(home).Verify(token), Is.EqualTo("job-a"), "a new agent on the same folder");
        Assert.That(File.GetUnixFileMode(Path.Combine(_root, "job-tokens.key")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void A_token_changed_to_name_another_job_is_refused()
    {
        var tokens = new JobToken(new MeeshkanHome(_root));
        var forged = tokens.Issue("job-a").Replace("mkjob.job-a.", "mkjob.job-b.", StringComparison.Ordinal);

        Assert.That(tokens.Verify(forged), Is.Null);
        Assert.That(tokens.Verify("mkjob.job-a.garbage!"), Is.Null);
        Assert.That(tokens.Verify("mkjob."), Is.Null);
        Assert.That(tokens.Verify("the access token"), Is.Null);
    }

    [Test]
    public void Another_agents_tokens_are_refused()
    {
        var other = Directory.CreateTempSubdirectory("mkt-").FullName;
        try
        {
            Assert.That(new JobToken(new MeeshkanHome(_root)).Verify(new JobToken(new MeeshkanHome(other)).Issue("job-a")), Is.Null);
        }
        finally
        {
            Directory.Delete(other, true);
        }
    }

    [Test]
    public void Only_reporting_calls_are_allowed() =>
        Assert.That(JobToken.AllowedMethods.All(m => m.StartsWith("/meeshkan.v1.ReportService/", StringComparison.Ordinal))
            && !JobToken.AllowedMethods.Contains("/meeshkan.v1.ReportService/RegisterJob"), Is.True);
}
