"""Scalars from a job's output (issue 17, `submit --scalars-from-output`), side by side in one run:

1. Parsing 100 MB of training-like output (one metric line in ten): the agent's OutputParser, a naive .NET Regex per
   line, and Python's `re` per line (the way Guild AI reads output scalars). CPU seconds of the parsing thread.
2. On the agent: the same 100 MB printed by a real job (`cat`), without the option, with it, and with it on output
   that holds no metric at all: the job's own run time, the agent's CPU time for the job, submit to end recorded.
3. The naive way to read metrics from a program: its output piped through a parser (`cat | python3 parse.py`), which
   the program then waits for, next to `cat > file` (what a Meeshkan job does).

Usage: bench.py --meeshkan PATH --parse-bench PATH.dll --out docs/benchmarks-output-scalars.md [--mb 100] [--build TEXT]
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

NAIVE = re.compile(rb"(?P<name>[A-Za-z_][\w./-]*)\s*[:=]\s*(?P<value>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))(?:\s*\(step (?P<step>\d+)\))?")

PIPE_PARSER = r'''
import re, sys
pattern = re.compile(rb"(?P<name>[A-Za-z_][\w./-]*)\s*[:=]\s*(?P<value>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))")
out = open(sys.argv[1], "wb")
n = 0
for line in sys.stdin.buffer:
    out.write(line)
    for m in pattern.finditer(line):
        float(m.group("value")); n += 1
print(n, file=sys.stderr)
'''


def write_output(path, mb, metrics):
    block = []
    for i in range(10_000):
        if metrics and i % 10 == 0:
            block.append(f"epoch {i} step {i * 7}: loss: {1.0 / (i + 1):.6f} (step {i}) acc={i % 100 / 100.0:.2f}\n")
        else:
            block.append(f"INFO 2026-12-03 14:00:{i % 60:02d} worker {i % 8} finished shard {i} in 0.{i % 1000:03d}s, queue depth {i % 13}\n")
    data = "".join(block).encode()
    with open(path, "wb") as f:
        written = 0
        while written < mb * 1_000_000:
            f.write(data)
            written += len(data)
    return written


def python_re(path):
    start = time.thread_time()
    n = 0
    with open(path, "rb") as f:
        for line in f:
            for m in NAIVE.finditer(line):
                v = m.group("value")
                float(v)
                n += 1
    return time.thread_time() - start, n


def cli(meeshkan, env, *args):
    return subprocess.run([meeshkan, *args], env=env, capture_output=True, text=True, check=True).stdout


def agent_cpu(pid):
    # utime + stime of the whole agent process, in clock ticks.
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_job(meeshkan, env, pid, work, name, options, path):
    cpu = agent_cpu(pid)
    start = time.monotonic()
    out = cli(meeshkan, env, "submit", "-n", name, *options, "cat", path)
    number = out.split()[1]
    cli(meeshkan, env, "wait", number)
    wall = time.monotonic() - start
    cpu = agent_cpu(pid) - cpu
    job = next(j for j in json.loads(cli(meeshkan, env, "list", "--json"))["jobs"] if str(j["number"]) == number)
    assert job["state"] in ("FINISHED", "JOB_STATE_FINISHED"), job
    run = parse_time(job["finishedAt"]) - parse_time(job["startedAt"])
    report = cli(meeshkan, env, "report", number, "--json") if options else ""
    return {"wall": wall, "agent_cpu": cpu, "job_run": run, "number": number, "report": report}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meeshkan", required=True)
    ap.add_argument("--parse-bench", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--build", default="")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mko.")
    metrics = os.path.join(work, "metrics.txt")
    quiet = os.path.join(work, "quiet.txt")
    size = write_output(metrics, a.mb, metrics=True)
    quiet_size = write_output(quiet, a.mb, metrics=False)
    mb = size / 1e6

    print(f"1. parsing {mb:.0f} MB in process", flush=True)
    rows = [json.loads(l) for l in subprocess.run(["dotnet", a.parse_bench, metrics], capture_output=True, text=True, check=True).stdout.splitlines()]
    py = [python_re(metrics) for _ in range(3)]
    parsers = {}
    for r in rows:
        parsers.setdefault(r["parser"], []).append((r["cpu_s"], r["scalars"]))
    parsers["naive-python-re"] = py
    counts = {k: v[0][1] for k, v in parsers.items()}
    cpu = {k: statistics.median(x[0] for x in v) for k, v in parsers.items()}

    print("2. on the agent", flush=True)
    home = os.path.join(work, "h")
    env = dict(os.environ, MEESHKAN_HOME=home)
    cli(a.meeshkan, env, "start")
    try:
        pid = json.loads(cli(a.meeshkan, env, "status", "--json"))["pid"]
        runs = {"without the option": [], "--scalars-from-output": [], "--scalars-from-output, no metric in the output": []}
        for _ in range(3):
            runs["without the option"].append(run_job(a.meeshkan, env, pid, work, "plain", [], metrics))
            runs["--scalars-from-output"].append(run_job(a.meeshkan, env, pid, work, "metrics", ["--scalars-from-output"], metrics))
            runs["--scalars-from-output, no metric in the output"].append(
                run_job(a.meeshkan, env, pid, work, "quiet", ["--scalars-from-output"], quiet))
        stored = json.loads(runs["--scalars-from-output"][0]["report"])
    finally:
        cli(a.meeshkan, env, "stop", "--cancel-jobs")

    print("3. a pipe through a parser", flush=True)
    script = os.path.join(work, "parse.py")
    open(script, "w").write(PIPE_PARSER)
    pipe, plain = [], []
    for _ in range(3):
        t = time.monotonic()
        subprocess.run(["sh", "-c", f"cat {metrics} > {work}/copy"], check=True)
        plain.append(time.monotonic() - t)
        t = time.monotonic()
        subprocess.run(["sh", "-c", f"cat {metrics} | /usr/bin/python3 {script} {work}/copy"], check=True, capture_output=True)
        pipe.append(time.monotonic() - t)

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    lines = [
        "# Benchmarks: scalars from a job's output (`submit --scalars-from-output`)",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores shared with other builds "
        f"({a.build}); `bash bench/output_scalars/run.sh`. Medians of 3 rounds, each system in turn within a round.",
        f"The output: {mb:.0f} MB of training-like lines, one metric line in ten "
        "(`epoch 10 step 70: loss: 0.090909 (step 10) acc=0.10`), the others log lines with colons and numbers.",
        "",
        "## 1. Parsing, CPU seconds of the parsing thread",
        "",
        "| parser | CPU s | MB per CPU second | scalars found |",
        "|---|---:|---:|---:|",
    ]
    names = {"meeshkan": "Meeshkan's OutputParser (the agent's code)", "naive-dotnet-regex": "naive: .NET `Regex` (compiled) on each `ReadLine()`",
             "naive-python-re": "naive: Python `re.finditer` on each line (how Guild AI reads output)"}
    for k in ["meeshkan", "naive-dotnet-regex", "naive-python-re"]:
        lines.append(f"| {names[k]} | {cpu[k]:.2f} | {mb / cpu[k]:.0f} | {counts[k]:,} |")
    lines += [
        "",
        "",
        f"## 2. On the agent: a job printing {mb:.0f} MB (`cat`)",
        "",
        "| job | the job's run time s | agent CPU s for the job | submit to end recorded s | MB per agent CPU second |",
        "|---|---:|---:|---:|---:|",
    ]
    base_cpu = med(runs["without the option"], "agent_cpu")
    for k, rs in runs.items():
        c = med(rs, "agent_cpu")
        extra = c - base_cpu
        rate = f"{mb / extra:.0f}" if k != "without the option" and extra > 0 else "-"
        lines.append(f"| {k} | {med(rs, 'job_run'):.2f} | {c:.2f} | {med(rs, 'wall'):.2f} | {rate} |")
    loss = next((s for s in stored.get("scalars", []) if s.get("name") == "loss"), None)
    lines += [
        "",
        "MB per agent CPU second counts the agent's CPU beyond the same job without the option (submit, start, end, `wait`).",
        f"The job with metrics got {loss['count'] if loss else '?'} `loss` points stored (one per metric line).",
        "The job's run time is its own (exit time minus start): the job writes its log files itself and the agent reads behind",
        "it, so the option does not make it slower. The end is recorded once its output is read to the end.",
        "",
        "## 3. The naive way: the program's output piped through a parser",
        "",
        "| the program's output goes | wall s |",
        "|---|---:|",
        f"| to a file (`cat > file`, as a Meeshkan job's does) | {statistics.median(plain):.2f} |",
        f"| through a Python line parser that writes it on (`cat \\| python3 parse.py`) | {statistics.median(pipe):.2f} |",
        "",
        "Behind a pipe the program can print no faster than the parser reads: it waits for it.",
        "",
    ]
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
