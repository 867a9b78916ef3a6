using Grpc.Core;
using Meeshkan.Agent.Remote;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Slurm.Tests.Agent;

/// <summary>
/// A job token on the real agent's TLS listener (what a Slurm job on a compute node uses): it reports about its own
/// job, and nothing else passes: not another job's reports, not the JobService.
/// </summary>
public sealed class JobTokenListenerTests : SandboxFixture
{
    private Uri _url = null!;
    private byte[] _fingerprint = null!;
    private string _jobA = "";

    protected override void StartAgent(MeeshkanSandbox sandbox) => _url = new Uri($"https://127.0.0.1:{sandbox.StartListening()}");

    [OneTimeSetUp]
    public void StartTwoRunningJobs()
    {
        using var certificate = RemoteCredentials.LoadOrCreateCertificate(new MeeshkanHome(Sandbox.Home));
        _fingerprint = certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        _jobA = Running(Sandbox.Submit("--name", "a", "sleep", "600"));
    }

    private string Running(long number) => Sandbox.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING").Id;

    private string TokenFor(string jobId) => new JobToken(new MeeshkanHome(Sandbox.Home)).Issue(jobId);

    private (ReportService.ReportServiceClient Report, JobService.JobServiceClient Jobs, IDisposable Channel) Connect(string token)
    {
        var channel = AgentChannel.ForRemote(_url, token, _fingerprint);
        return (new ReportService.ReportServiceClient(channel), new JobService.JobServiceClient(channel), channel);
    }

    [Test]
    public async Task A_job_token_reports_scalars_and_notifies_about_its_own_job()
    {
        var (report, _, channel) = Connect(TokenFor(_jobA));
        using (channel)
        {
            await report.ReportScalarsAsync(new ScalarBatch { JobId = _jobA, Names = { "loss" }, NameIndex = { 0 }, Values = { 0.5 } });
            await report.AddConditionAsync(new AddConditionRequest { JobId = _jobA, Expression = "loss > 10" });
        }
        Assert.That(Sandbox.Ok("report", "a"), Does.Contain("loss"));
    }

    [Test]
    public void A_job_token_is_refused_for_another_job()
    {
        var jobB = "00000000-0000-0000-0000-000000000000";
        var (report, _, channel) = Connect(TokenFor(_jobA));
        using (channel)
        {
            var scalars = Assert.ThrowsAsync<RpcException>(async () =>
                await report.ReportScalarsAsync(new ScalarBatch { JobId = jobB, Names = { "loss" }, NameIndex = { 0 }, Values = { 1 } }));
            Assert.That(scalars!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
            var notify = Assert.ThrowsAsync<RpcException>(async () => await report.NotifyAsync(new NotifyRequest { JobId = jobB, Message = "x" }));
            Assert.That(notify!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
            var finish = Assert.ThrowsAsync<RpcException>(async () => await report.FinishJobAsync(new FinishJobRequest { JobId = jobB }));
            Assert.That(finish!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        }
    }

    [Test]
    public void A_job_token_is_refused_for_the_job_service_and_for_registering_jobs()
    {
        var (report, jobs, channel) = Connect(TokenFor(_jobA));
        using (channel)
        {
            var list = Assert.ThrowsAsync<RpcException>(async () => await jobs.ListJobsAsync(new ListJobsRequest()));
            Assert.That(list!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            var cancel = Assert.ThrowsAsync<RpcException>(async () => await jobs.CancelJobAsync(new CancelJobRequest { Identifier = "a" }));
            Assert.That(cancel!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            var submit = Assert.ThrowsAsync<RpcException>(async () => await jobs.SubmitJobAsync(new SubmitJobRequest { Command = { "true" } }));
            Assert.That(submit!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
            var register = Assert.ThrowsAsync<RpcException>(async () => await report.RegisterJobAsync(new RegisterJobRequest { Name = "x" }));
            Assert.That(register!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        }
        Assert.That(Sandbox.Job(1)!.State, Is.EqualTo("RUNNING"), "nothing was canceled");
    }

    [Test]
    public void A_forged_job_token_is_refused()
    {
        var forged = TokenFor(_jobA)[..^4] + "AAAA";
        var (report, _, channel) = Connect(forged);
        using (channel)
        {
            var error = Assert.ThrowsAsync<RpcException>(async () =>
                await report.ReportScalarsAsync(new ScalarBatch { JobId = _jobA, Names = { "loss" }, NameIndex = { 0 }, Values = { 1 } }));
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        }
    }

    /// <summary>What a Slurm job gets: the listener, the pinned fingerprint, the certificate (PEM) and its job's token.</summary>
    private Dictionary<string, string> RemoteEnvironment(string jobId)
    {
        using var certificate = RemoteCredentials.LoadOrCreateCertificate(new MeeshkanHome(Sandbox.Home));
        var pem = Path.Combine(Sandbox.WorkDir, "agent.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        return new Dictionary<string, string>
        {
            ["MEESHKAN_JOB_ID"] = jobId,
            ["MEESHKAN_AGENT_URL"] = _url.ToString(),
            ["MEESHKAN_AGENT_TOKEN"] = TokenFor(jobId),
            ["MEESHKAN_AGENT_FINGERPRINT"] = CertificateFingerprint.Format(_fingerprint),
            ["MEESHKAN_AGENT_CERT"] = pem,
            // No socket to fall back on: what arrives came over TCP.
            ["MEESHKAN_SOCKET"] = "/nonexistent/agent.sock",
            ["PYTHONPATH"] = Path.Combine(MeeshkanSandbox.RepoRoot, "clients", "python"),
        };
    }

    [Test]
    public void The_python_client_reports_scalars_a_condition_and_a_notification_over_tcp_with_its_job_token()
    {
        var jobId = _jobA;
        var script = Sandbox.WriteFile("remote.py", """
            import meeshkan
            meeshkan.add_condition("py_loss > 0.5")
            for step in range(100):
                meeshkan.report_scalar("py_loss", 1.0 - step / 100)
            meeshkan.notify("hello from a compute node")
            assert meeshkan.flush(10)
            """);
        var result = MeeshkanSandbox.RunProgram("/usr/bin/python3", [script], Sandbox.WorkDir, RemoteEnvironment(jobId), TimeSpan.FromSeconds(60));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stderr, Does.Not.Contain("not reachable"));
        using var report = System.Text.Json.JsonDocument.Parse(Sandbox.Ok("report", "a", "--json"));
        var loss = report.RootElement.GetProperty("scalars").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "py_loss");
        Assert.That(loss.GetProperty("count").GetString(), Is.EqualTo("100"));
        Assert.That(report.RootElement.GetProperty("conditionEvents").EnumerateArray().Select(e => e.GetProperty("description").GetString()),
            Has.Some.Contains("py_loss > 0.5"));
        Assert.That(Sandbox.Ok("notifications", "a"), Does.Contain("hello from a compute node"));
    }

    [Test]
    public async Task The_csharp_sdk_reports_over_tcp_with_its_job_token()
    {
        var jobId = _jobA;
        var environment = RemoteEnvironment(jobId);
        var options = new ScalarReporterOptions
        {
            JobId = jobId,
            AgentUrl = _url,
            AgentToken = environment["MEESHKAN_AGENT_TOKEN"],
            AgentFingerprint = environment["MEESHKAN_AGENT_FINGERPRINT"],
            SocketPath = "/nonexistent/agent.sock",
            FlushOnProcessExit = false,
        };
        await using (var reporter = new ScalarReporter(options))
        {
            for (var step = 0; step < 50; step++)
            {
                reporter.ReportScalar("cs_accuracy", step / 50.0);
            }
            Assert.That(await reporter.FlushAsync(), Is.True);
            Assert.That(reporter.SocketPath, Is.EqualTo(_url.ToString()));
        }
        Assert.That(Sandbox.Ok("report", "a"), Does.Contain("cs_accuracy"));
    }
}
