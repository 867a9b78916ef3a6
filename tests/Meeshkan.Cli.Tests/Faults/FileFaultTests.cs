using System.Security.Cryptography;
using System.Text;
using Meeshkan.Testing;
using Microsoft.Data.Sqlite;

namespace Meeshkan.Cli.Tests.Faults;

/// <summary>Broken, locked or unreachable files: a clear message naming the file, and nothing overwritten.</summary>
[TestFixture]
public sealed class FileFaultTests
{
    [Test]
    public void A_malformed_config_stops_the_agent_from_starting_and_names_the_file()
    {
        using var sandbox = new MeeshkanSandbox();
        var config = Path.Combine(sandbox.Home, "config");
        File.WriteAllText(config, "{ \"python\": \"/usr/bin/python3\", oops");
        FaultCounts.Fault();
        var start = sandbox.Run("start");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString());
        Assert.That(start.Stderr, Does.Contain(config).And.Contain("not valid config").And.Contain("meeshkan setup"));
        Assert.That(start.Stderr, Does.Not.Contain("   at "));
        // `setup` repairs a broken config (issue 20): it starts a fresh one and keeps the broken file beside it.
        var setup = sandbox.Run("setup", "--python", "/usr/bin/python3");
        Assert.That(setup.ExitCode, Is.Zero, setup.ToString());
        var kept = Directory.GetFiles(sandbox.Home, "config.broken-*");
        Assert.That(kept, Has.Length.EqualTo(1), "the broken file is kept for the user");
        Assert.That(File.ReadAllText(kept[0]), Does.EndWith("oops"));
        var sorry = sandbox.Run("sorry");
        Assert.That(sorry.ExitCode, Is.Zero, "the diagnostic bundle still works: " + sorry);
        FaultCounts.BadInput(2);

        File.Delete(config);
        sandbox.Start();
        FaultCounts.Checked(3);
    }

    [Test]
    public void A_corrupted_database_stops_the_agent_and_is_not_overwritten()
    {
        using var sandbox = new MeeshkanSandbox();
        var database = Path.Combine(sandbox.Home, "meeshkan.db");
        var garbage = new byte[256 * 1024];
        new Random(5).NextBytes(garbage);
        File.WriteAllBytes(database, garbage);
        FaultCounts.Fault();
        var start = sandbox.Run("start");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString());
        Assert.That(start.Stderr, Does.Contain(database).And.Contain("not a database"), start.ToString());
        Assert.That(start.Stderr, Does.Not.Contain("   at "));
        Assert.That(SHA256.HashData(File.ReadAllBytes(database)), Is.EqualTo(SHA256.HashData(garbage)), "the damaged file is kept as it was");
        Assert.That(File.Exists(Path.Combine(sandbox.Home, "agent.pid")), Is.False, "no stale pid file");
        FaultCounts.Checked(garbage.Length);
    }

    [Test]
    public void A_truncated_database_with_jobs_in_it_stops_the_agent_and_is_not_overwritten()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        sandbox.Submit("true");
        FaultKit.Stop(sandbox);
        var database = Path.Combine(sandbox.Home, "meeshkan.db");
        var bytes = File.ReadAllBytes(database);
        // Keep the header, damage every page after it.
        for (var i = 100; i < bytes.Length; i++)
        {
            bytes[i] ^= 0x5a;
        }
        File.WriteAllBytes(database, bytes);
        FaultCounts.Fault();
        var start = sandbox.Run("start");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString());
        Assert.That(start.Stderr, Does.Contain(database), start.ToString());
        Assert.That(File.ReadAllBytes(database), Is.EqualTo(bytes), "the damaged file is kept as it was");
        FaultCounts.Checked(bytes.Length);
    }

    [Test]
    public void A_database_locked_by_another_process_gives_a_clear_error_and_nothing_is_lost()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        var before = sandbox.Submit("true");
        sandbox.WaitForEnd(before);
        var database = Path.Combine(sandbox.Home, "meeshkan.db");
        using (var other = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            other.Open();
            // An open write transaction: the agent's writes wait for it (busy timeout), then give up.
            using var transaction = other.BeginTransaction(deferred: false);
            using (var write = other.CreateCommand())
            {
                write.Transaction = transaction;
                write.CommandText = "CREATE TABLE IF NOT EXISTS held_by_test (x INTEGER); INSERT INTO held_by_test VALUES (1);";
                write.ExecuteNonQuery();
            }
            FaultCounts.Fault();
            var submit = sandbox.RunIn(sandbox.WorkDir, null, TimeSpan.FromSeconds(120), "submit", "echo", "while locked");
            Assert.That(submit.ExitCode, Is.Not.Zero, submit.ToString());
            Assert.That(submit.Stderr, Does.Contain("locked").Or.Contain("busy"), submit.ToString());
            FaultKit.AssertOneLine(submit.Stderr, "submit");
            FaultCounts.BadInput();
            var list = sandbox.Run("list");
            Assert.That(list.ExitCode, Is.Zero, "reading still works: " + list);
            transaction.Rollback();
        }
        var after = sandbox.Submit("echo", "after the lock");
        Assert.That(sandbox.WaitForEnd(after).State, Is.EqualTo("FINISHED"));
        Assert.That(sandbox.Jobs().Select(j => j.Number), Is.EqualTo(new[] { before, after }), "the refused submit left nothing behind");
        Assert.That(sandbox.Ok("logs", after.ToString()), Is.EqualTo("after the lock\n"));
        FaultCounts.Checked(3);
    }

    [Test]
    public void A_data_folder_that_cannot_be_created_gives_a_clear_error()
    {
        using var sandbox = new MeeshkanSandbox();
        var file = Path.Combine(sandbox.WorkDir, "a-file");
        File.WriteAllText(file, "not a folder");
        foreach (var home in new[] { Path.Combine(file, "home"), "/proc/meeshkan-home" })
        {
            FaultCounts.Fault();
            var start = FaultKit.Shell(sandbox, "\"$MK\" start", 120, new Dictionary<string, string> { ["MEESHKAN_HOME"] = home });
            var stderr = Encoding.UTF8.GetString(start.Stderr);
            Assert.That(start.ExitCode, Is.Not.Zero, stderr);
            Assert.That(stderr, Does.Contain(home), stderr);
            FaultKit.AssertOneLine(stderr, "start");
            FaultCounts.Checked();
        }
    }

    [Test]
    public void A_socket_path_longer_than_the_OS_allows_gives_a_clear_error()
    {
        using var sandbox = new MeeshkanSandbox();
        var home = Path.Combine(sandbox.Home, new string('h', 120));
        FaultCounts.Fault();
        var env = new Dictionary<string, string> { ["MEESHKAN_HOME"] = home };
        var start = FaultKit.Shell(sandbox, "\"$MK\" start", 120, env);
        var stderr = Encoding.UTF8.GetString(start.Stderr);
        Assert.That(start.ExitCode, Is.Not.Zero, stderr);
        Assert.That(stderr, Does.Contain("107 bytes").And.Contain("MEESHKAN_HOME"), stderr);
        Assert.That(stderr, Does.Not.Contain("   at "));
        var list = FaultKit.Shell(sandbox, "\"$MK\" list", 120, env);
        Assert.That(list.ExitCode, Is.Not.Zero);
        FaultKit.AssertOneLine(Encoding.UTF8.GetString(list.Stderr), "list");
        FaultCounts.Checked(2);
    }

    [Test]
    public void Logs_of_half_a_gigabyte_stream_byte_exact_with_flat_memory()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        const long size = 500L * 1024 * 1024;
        var number = sandbox.Submit("head", "-c", size.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero");
        Assert.That(sandbox.WaitForEnd(number, 600).State, Is.EqualTo("FINISHED"));
        FaultCounts.Fault();
        // Compared, not kept: cmp reads the stream against /dev/zero and stops at its end, saying where.
        var measured = File.Exists("/usr/bin/time");
        var timed = measured ? "/usr/bin/time -f %M -o \"$RSS\" " : "";
        var result = FaultKit.Shell(sandbox, $"{timed}\"$MK\" logs {number} 2>/dev/null | cmp - /dev/zero", 900);
        var cmp = Encoding.UTF8.GetString(result.Stderr);
        Assert.That(cmp, Does.Match($"EOF on - after byte {size}\\b"), "every byte is a zero byte of the job, and there are exactly as many");
        FaultCounts.Checked(size);
        if (!measured)
        {
            Assert.Ignore("bytes checked; memory not measured: /usr/bin/time is missing (apt-get install time)");
        }
        Assert.That(result.PeakRssKb, Is.GreaterThan(0));
        Assert.That(result.PeakRssKb, Is.LessThan(250 * 1024), "the CLI's memory stays flat");
        TestContext.Progress.WriteLine($"meeshkan logs of {size >> 20} MB: peak RSS {result.PeakRssKb / 1024} MB");
    }

    [Test]
    public void Invalid_UTF_8_output_streams_byte_exact()
    {
        using var sandbox = new MeeshkanSandbox();
        sandbox.Start();
        sandbox.WriteFile("bytes.sh", "printf 'ok \\377\\376 \\300\\200 \\355\\240\\200 \\000 end\\n'; printf '\\351t\\351\\n' >&2\n");
        var number = sandbox.Submit("bytes.sh");
        Assert.That(sandbox.WaitForEnd(number).State, Is.EqualTo("FINISHED"));
        var logs = FaultKit.Shell(sandbox, $"\"$MK\" logs {number}");
        Assert.That(logs.ExitCode, Is.Zero);
        byte[] expectedOut = [.. "ok "u8, 0xff, 0xfe, (byte)' ', 0xc0, 0x80, (byte)' ', 0xed, 0xa0, 0x80, (byte)' ', 0, .. " end\n"u8];
        byte[] expectedErr = [0xe9, (byte)'t', 0xe9, (byte)'\n'];
        CrashRecoveryTests.CompareBytes(logs.Stdout, expectedOut, "stdout");
        CrashRecoveryTests.CompareBytes(logs.Stderr.AsSpan(0, Math.Min(expectedErr.Length, logs.Stderr.Length)).ToArray(), expectedErr, "stderr");
        var follow = FaultKit.Shell(sandbox, $"\"$MK\" logs -f {number}");
        CrashRecoveryTests.CompareBytes(follow.Stdout, expectedOut, "stdout (followed)");
        FaultCounts.BadInput();
    }
}
