using Meeshkan.Agent.Executors.Slurm;

namespace Meeshkan.Slurm.Tests.Units;

public sealed class SbatchSubmissionTests
{
    [Test]
    public void Resources_become_sbatch_options_and_the_job_writes_into_its_folder()
    {
        var resources = new SlurmResources { Gpus = 2, TimeLimit = TimeSpan.FromSeconds(90), Cpus = 4, Memory = "16g", Partition = "gpu" };
        var submission = SbatchSubmission.For(7, "res net", ["/usr/bin/python3", "/home/me/train.py", "--lr", "0.1"], "/home/me",
            "/shared/mk/jobs/7", resources.Over(new SlurmResources { Partition = "cpu", Account = "lab", ExtraArgs = "--qos=high --comment='a b'" }));

        Assert.That(submission.Arguments, Is.EqualTo(new[]
        {
            "--parsable", "--job-name=meeshkan-7-res_net", "--chdir=/home/me", "--output=/shared/mk/jobs/7/stdout",
            "--error=/shared/mk/jobs/7/stderr", "--open-mode=append", "--export=ALL",
            "--partition=gpu", "--account=lab", "--cpus-per-task=4", "--mem=16G", "--gres=gpu:2", "--time=0-00:01:30",
            "--qos=high", "--comment=a b", "/shared/mk/jobs/7/slurm.sh",
        }));
        Assert.That(submission.Script, Does.StartWith("#!/bin/sh\n"));
        Assert.That(submission.Script, Does.Contain("\n/usr/bin/python3 /home/me/train.py --lr 0.1 </dev/null\n"));
        Assert.That(submission.Script, Does.Contain("d=/shared/mk/jobs/7\n"));
    }

    [Test]
    public void The_script_runs_the_exact_argv_and_records_its_exit_status()
    {
        var folder = Directory.CreateTempSubdirectory("mks-").FullName;
        try
        {
            var odd = "it's a \"test\" $HOME `x` \\ ;|&";
            var submission = SbatchSubmission.For(1, "x", ["/bin/sh", "-c", "printf '%s' \"$1\" >\"$2\"; exit 3", "sh", odd, Path.Combine(folder, "arg")],
                folder, folder, new SlurmResources());
            File.WriteAllText(Path.Combine(folder, SbatchSubmission.ScriptFile), submission.Script);

            var result = Meeshkan.Testing.MeeshkanSandbox.RunProgram("/bin/sh", [Path.Combine(folder, SbatchSubmission.ScriptFile)], folder, null,
                TimeSpan.FromSeconds(10));

            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(File.ReadAllText(Path.Combine(folder, "arg")), Is.EqualTo(odd));
            Assert.That(File.ReadAllText(Path.Combine(folder, "exit_code")).Trim(), Is.EqualTo("3"));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Test]
    public void A_percent_in_the_job_folder_is_not_a_slurm_pattern() =>
        Assert.That(SbatchSubmission.For(1, "x", ["true"], "/", "/data/100%/jobs/1", new SlurmResources()).Arguments,
            Does.Contain("--output=/data/100%%/jobs/1/stdout"));

    [TestCase("1-02:03:04", 93784)]
    [TestCase("0-00:00:01", 0.2)]
    [TestCase("0-00:10:00", 600)]
    public void Time_limits(string expected, double seconds) =>
        Assert.That(SlurmResources.FormatTime(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));

    [TestCase("--mem", "sixteen", "--mem sixteen: give a size such as 4096M, 16G or 1T")]
    [TestCase("--cpus", "0", "--cpus must be 1 or more (got 0)")]
    [TestCase("--gpus", "-1", "--gpus must be 1 or more (got -1)")]
    [TestCase("--slurm-args", "--comment='x", "unclosed ' quote in \"--comment='x\"")]
    public void Bad_resources_say_what_to_do(string option, string value, string message)
    {
        var resources = option switch
        {
            "--mem" => new SlurmResources { Memory = value },
            "--cpus" => new SlurmResources { Cpus = int.Parse(value) },
            "--gpus" => new SlurmResources { Gpus = int.Parse(value) },
            _ => new SlurmResources { ExtraArgs = value },
        };
        Assert.That(() => resources.ToSbatchOptions(), Throws.ArgumentException.With.Message.EqualTo(message));
    }

    [TestCase("12\n", 12)]
    [TestCase("4242;cluster-a\n", 4242)]
    [TestCase("sbatch: warning: something\n99\n", 99)]
    public void Job_ids_from_sbatch_parsable(string stdout, long id) => Assert.That(SbatchSubmission.ParseJobId(stdout), Is.EqualTo(id));

    [TestCase("")]
    [TestCase("Submitted batch job x\n")]
    public void No_job_id_is_an_error(string stdout) =>
        Assert.That(() => SbatchSubmission.ParseJobId(stdout), Throws.InstanceOf<FormatException>());

    [Test]
    public void Shell_words_split_and_quote_back()
    {
        var words = ShellWords.Split("  --a=1 'b c' \"d \\\"e\\\"\" f\\ g ''  ");
        Assert.That(words, Is.EqualTo(new[] { "--a=1", "b c", "d \"e\"", "f g", "" }));
        Assert.That(ShellWords.Split(string.Join(' ', words.Select(ShellWords.Quote))), Is.EqualTo(words));
    }
}
