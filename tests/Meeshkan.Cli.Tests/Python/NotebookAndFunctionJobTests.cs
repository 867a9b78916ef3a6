using System.Globalization;
using System.Text.Json;
using Meeshkan.Testing;

namespace Meeshkan.Cli.Tests;

/// <summary>`meeshkan submit analysis.ipynb` (nbclient, Debian's python3-nbclient + python3-ipykernel) and
/// `meeshkan.submit_function` (cloudpickle), run for real.</summary>
[TestFixture]
public sealed class NotebookAndFunctionJobTests() : SandboxFixture(AgentPer.Test)
{
    private static string Notebook(params string[] cells) => JsonSerializer.Serialize(new
    {
        cells = cells.Select(source => new { cell_type = "code", execution_count = (int?)null, metadata = new { }, outputs = Array.Empty<object>(), source }),
        metadata = new { kernelspec = new { name = "python3", display_name = "Python 3", language = "python" } },
        nbformat = 4,
        nbformat_minor = 4,
    });

    [Test]
    public void A_notebook_runs_as_a_job_reports_from_its_cells_and_is_saved_executed_in_the_job_folder()
    {
        Sandbox.WriteFile("analysis.ipynb", Notebook(
            "import meeshkan\nfor step in range(50):\n    meeshkan.report_scalar('accuracy', step / 100)",
            "print('cell two says hi')",
            "6 * 7"));
        var number = Sandbox.Submit("analysis.ipynb");
        var job = Sandbox.WaitForEnd(number, 120);
        var logs = Sandbox.Run("logs", number.ToString(CultureInfo.InvariantCulture));
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain("cell two says hi").And.Contain("42"), "cell output in the job's log");
        Assert.That(Sandbox.Scalars(number)["accuracy"], Is.EqualTo((Value: 0.49, Step: 49L, Count: 50L)));
        var saved = Path.Combine(job.OutputDirectory, "analysis.ipynb");
        using var executed = JsonDocument.Parse(File.ReadAllText(saved));
        var outputs = executed.RootElement.GetProperty("cells")[1].GetProperty("outputs");
        Assert.That(outputs[0].GetProperty("text").ToString(), Does.Contain("cell two says hi"), "saved with its outputs");
    }

    [Test]
    public void A_failing_cell_fails_the_job_with_its_traceback_in_stderr_and_keeps_the_cells_before_it()
    {
        Sandbox.WriteFile("broken.ipynb", Notebook(
            "import meeshkan\nmeeshkan.report_scalar('loss', 0.5)",
            "def diverge():\n    raise FloatingPointError('loss is nan at step 7')\ndiverge()",
            "print('never runs')"));
        var number = Sandbox.Submit("broken.ipynb");
        var job = Sandbox.WaitForEnd(number, 120);
        var logs = Sandbox.Run("logs", number.ToString(CultureInfo.InvariantCulture));
        Assert.That(job.State, Is.EqualTo("FAILED"), logs.ToString());
        Assert.That(job.ExitCode, Is.EqualTo(1));
        // The failure notification carries the last lines of stderr: the cell and its traceback.
        Assert.That(logs.Stderr, Does.Contain("cell 2 of broken.ipynb failed").And.Contain("FloatingPointError: loss is nan at step 7")
            .And.Contain("diverge()"));
        Assert.That(logs.Stdout, Does.Not.Contain("never runs"));
        Assert.That(Sandbox.Scalars(number)["loss"].Count, Is.EqualTo(1));
        Assert.That(File.ReadAllText(Path.Combine(job.OutputDirectory, "broken.ipynb")), Does.Contain("FloatingPointError"));
    }

    [Test]
    public void The_failure_notification_of_a_failing_cell_carries_its_traceback()
    {
        // A real webhook receiver on 127.0.0.1: what the user's channel gets.
        using var listener = new System.Net.HttpListener();
        var port = Ports.Free();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var receiving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using (var reader = new StreamReader(context.Request.InputStream))
                {
                    bodies.Enqueue(await reader.ReadToEndAsync());
                }
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });
        Sandbox.Ok("setup", "--webhook-url", $"http://127.0.0.1:{port}/hook");
        Sandbox.WriteFile("broken.ipynb", Notebook(
            "x = 1",
            "def diverge():\n    raise FloatingPointError('loss is nan at step 7')\ndiverge()"));

        var number = Sandbox.Submit("broken.ipynb");
        Assert.That(Sandbox.WaitForEnd(number, 120).State, Is.EqualTo("FAILED"));

        Wait.For(() => bodies.Any(b => b.Contains("job_failed", StringComparison.Ordinal)), "the failure notification", 30);
        var failed = bodies.First(b => b.Contains("job_failed", StringComparison.Ordinal));
        Assert.That(failed, Does.Contain("FloatingPointError: loss is nan at step 7").And.Contain("diverge()"));
        listener.Stop();
        receiving.Wait(TimeSpan.FromSeconds(10));
    }

    [Test]
    public void A_notebook_that_is_not_json_is_refused_at_submit_and_nothing_is_queued()
    {
        Sandbox.WriteFile("bad.ipynb", "{\"cells\": [ {\"cell_type\": ");
        Sandbox.WriteFile("nocells.ipynb", "{\"metadata\": {}}");
        foreach (var file in new[] { "bad.ipynb", "nocells.ipynb" })
        {
            var result = Sandbox.Run("submit", file);
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
            Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1), result.ToString());
            Assert.That(result.Stderr, Does.Contain(file).And.Contain("notebook"));
        }
        Assert.That(Sandbox.Jobs(), Is.Empty);
    }

    [Test]
    public void Submit_function_runs_a_function_as_a_job_and_a_function_that_cannot_be_sent_is_a_type_error()
    {
        Sandbox.WriteFile("launch.py", """
            import threading
            import meeshkan

            def train(epochs, lr=0.1):
                for epoch in range(epochs):
                    meeshkan.report_scalar("loss", lr / (epoch + 1))
                return "trained"

            job = meeshkan.submit_function(train, job_name="fn-job", report_interval=60, args=(4,), kwargs={"lr": 0.5})
            print("submitted", job.number, job.name)

            lock = threading.Lock()
            try:
                meeshkan.submit_function(lambda: lock.acquire())
            except TypeError as error:
                print("refused:", error)
            try:
                meeshkan.submit_notebook()
            except RuntimeError as error:
                print("no notebook:", error)
            """);
        var result = MeeshkanSandbox.RunProgram("/usr/bin/python3", [Path.Combine(Sandbox.WorkDir, "launch.py")], Sandbox.WorkDir,
            new Dictionary<string, string>
            {
                ["MEESHKAN_HOME"] = Sandbox.Home,
                ["PYTHONPATH"] = Path.Combine(MeeshkanSandbox.RepoRoot, "clients", "python"),
            }, TimeSpan.FromSeconds(60));
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Stdout, Does.Contain("submitted 1 fn-job"));
        Assert.That(result.Stdout, Does.Contain("refused: cannot send '<lambda>' to a job"));
        Assert.That(result.Stdout, Does.Contain("no notebook: submit_notebook() cannot tell which notebook this is"));

        var job = Sandbox.WaitForEnd(1);
        var logs = Sandbox.Run("logs", "1");
        Assert.That(job.State, Is.EqualTo("FINISHED"), logs.ToString());
        Assert.That(logs.Stdout, Does.Contain("'trained'"));
        Assert.That(Sandbox.Scalars(1)["loss"], Is.EqualTo((Value: 0.5 / 4, Step: 3L, Count: 4L)));
        Assert.That(Sandbox.Jobs(), Has.Count.EqualTo(1), "the function that could not be sent queued nothing");
    }
}
