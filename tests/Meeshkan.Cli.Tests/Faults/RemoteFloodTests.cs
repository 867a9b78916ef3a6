using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Meeshkan.Testing;
using Meeshkan.V1;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>
/// The TLS listener checks the token before it reads a byte of a request's body (issue 14.5): a flood of
/// unauthenticated 25 MB calls leaves the agent's memory flat, an incomplete body still gets UNAUTHENTICATED, and the
/// agent's log has one line per refusal, no stack trace.
/// </summary>
[TestFixture]
public sealed class RemoteFloodTests() : SandboxFixture(AgentPer.Test)
{
    private int _port;

    /// <summary>The "machine": its agent listens.</summary>
    private MeeshkanSandbox Machine => Sandbox;

    protected override void StartAgent(MeeshkanSandbox sandbox) => _port = sandbox.StartListening();

    [Test]
    public async Task A_flood_of_unauthenticated_25_MB_calls_leaves_the_agents_memory_flat()
    {
        var pid = Machine.AgentPid ?? throw new AssertionException("no agent pid");
        using var channel = UnauthenticatedChannel();
        var jobs = new JobService.JobServiceClient(channel);
        // Warm the listener (TLS, HTTP/2) with one small refused call, so that what is measured is the bodies.
        Assert.That(() => jobs.GetStatus(new GetStatusRequest()), Throws.InstanceOf<RpcException>()
            .With.Property(nameof(RpcException.StatusCode)).EqualTo(StatusCode.Unauthenticated));
        var before = Memory(pid);

        var huge = new SubmitJobRequest { Name = "flood" };
        huge.Command.Add(new string('x', 25 * 1024 * 1024));
        var stopwatch = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 16).Select(async _ =>
        {
            // A channel each: one connection each, as separate attackers would.
            using var own = UnauthenticatedChannel();
            try
            {
                await new JobService.JobServiceClient(own).SubmitJobAsync(huge, deadline: DateTime.UtcNow.AddMinutes(2));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }).ToArray();
        var codes = await Task.WhenAll(calls);
        stopwatch.Stop();
        FaultCounts.BadInput(16);

        var after = Memory(pid);
        TestContext.Out.WriteLine($"agent RSS before {before.Rss / 1024} MB, after {after.Rss / 1024} MB, peak {after.Peak / 1024} MB; 16 x 25 MB refused in {stopwatch.ElapsedMilliseconds} ms");
        Assert.That(codes, Has.All.EqualTo(StatusCode.Unauthenticated));
        Assert.That(after.Peak - before.Peak, Is.LessThan(64 * 1024), "peak RSS grew by less than 64 MB (400 MB of bodies were sent)");
        Assert.That(Machine.Job(1), Is.Null, "nothing was submitted");
        FaultKit.Healthy(FaultKit.Channel(Machine));
        var log = File.ReadAllText(Path.Combine(Machine.Home, "logs", "agent.log"));
        Assert.That(log, Does.Not.Contain("Exception was thrown by handler").And.Not.Contain("   at "), "no stack trace per call");
        FaultCounts.Checked(16);
    }

    [Test]
    public async Task An_incomplete_unauthenticated_body_is_answered_unauthenticated_without_waiting_for_the_rest()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = delegate { return true; } },
        });
        var body = new StallingContent(declared: 25 * 1024 * 1024, sent: 64 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{_port}/meeshkan.v1.JobService/SubmitJob")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        FaultCounts.BadInput();
        Assert.That(response.Headers.TryGetValues("grpc-status", out var status), Is.True, response.ToString());
        Assert.That(status!.Single(), Is.EqualTo("16"), "UNAUTHENTICATED, not INTERNAL");
        body.Release();
        FaultCounts.Checked();
    }

    private GrpcChannel UnauthenticatedChannel() => GrpcChannel.ForAddress($"https://127.0.0.1:{_port}", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = delegate { return true; } } },
        MaxSendMessageSize = null,
    });

    /// <summary>VmRSS and VmHWM of a process, in kB.</summary>
    private static (long Rss, long Peak) Memory(int pid) => (Processes.StatusKb(pid, "VmRSS:"), Processes.StatusKb(pid, "VmHWM:"));

    /// <summary>A gRPC frame that announces <c>declared</c> bytes, sends <c>sent</c> of them and then waits.</summary>
    private sealed class StallingContent(int declared, int sent) : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var header = new byte[5];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), declared);
            await stream.WriteAsync(header);
            await stream.WriteAsync(new byte[sent]);
            await stream.FlushAsync();
            await _release.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
