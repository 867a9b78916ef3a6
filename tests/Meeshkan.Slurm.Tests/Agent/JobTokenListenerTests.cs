using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Meeshkan.Agent.Remote;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Slurm.Tests.Agent;

/// <summary>
/// A job token on the real agent's TLS listener (what a Slurm job on a compute node uses): it reports about its own
/// job, and nothing else passes: not another job's reports, not the JobService.
/// </summary>
public sealed class JobTokenListenerTests
{
    private MeeshkanSandbox _agent = null!;
    private Uri _url = null!;
    private byte[] _fingerprint = null!;
    private string _jobA = "";

    [OneTimeSetUp]
    public void StartListeningAgentWithTwoRunningJobs()
    {
        _agent = new MeeshkanSandbox();
        var port = FreePort();
        _agent.Ok("start", "--listen", $"127.0.0.1:{port}");
        _url = new Uri($"https://127.0.0.1:{port}");
        using var certificate = RemoteCredentials.LoadOrCreateCertificate(new MeeshkanHome(_agent.Home));
        _fingerprint = certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        _jobA = Running(_agent.Submit("--name", "a", "sleep", "60"));
    }

    private string Running(long number) => _agent.WaitForState(number, TimeSpan.FromSeconds(30), "RUNNING").Id;

    [OneTimeTearDown]
    public void StopAgent() => _agent.Dispose();

    private string TokenFor(string jobId) => new JobToken(new MeeshkanHome(_agent.Home)).Issue(jobId);

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
        Assert.That(_agent.Ok("report", "a"), Does.Contain("loss"));
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
        Assert.That(_agent.Job(1)!.State, Is.EqualTo("RUNNING"), "nothing was canceled");
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
