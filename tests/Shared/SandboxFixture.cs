namespace Meeshkan.Testing;

/// <summary>How long a <see cref="SandboxFixture"/>'s agent lives.</summary>
public enum AgentPer
{
    /// <summary>One agent for all of the fixture's tests: started before the first, stopped after the last.</summary>
    Fixture,

    /// <summary>A new agent (and MEESHKAN_HOME) for each test.</summary>
    Test,
}

/// <summary>
/// A fixture whose tests talk to a real agent on a temporary MEESHKAN_HOME (<see cref="Sandbox"/>): made and started
/// before the tests (once, or for each test: <see cref="AgentPer"/>), stopped with its jobs canceled and its folders
/// removed after them. A fixture says what its agent needs before it starts in <see cref="Prepare"/>, how it starts in
/// <see cref="StartAgent"/>, and what goes after it in <see cref="Stopped"/>. NUnit runs a base class's set-up before
/// the fixture's own and its tear-down after: a fixture's [OneTimeSetUp]/[SetUp] find the agent running, its
/// [OneTimeTearDown]/[TearDown] run while it still does.
/// </summary>
public abstract class SandboxFixture(AgentPer per = AgentPer.Fixture)
{
    /// <summary>The sandbox whose agent the tests use.</summary>
    protected MeeshkanSandbox Sandbox { get; private set; } = null!;

    /// <summary>Before the agent starts: its environment, `meeshkan setup`, a config file.</summary>
    protected virtual void Prepare(MeeshkanSandbox sandbox)
    {
    }

    /// <summary>Starts the agent (default: `meeshkan start`).</summary>
    protected virtual void StartAgent(MeeshkanSandbox sandbox) => sandbox.Start();

    /// <summary>After the agent stopped and its folders were removed: what the fixture made for it (a fake nvidia-smi).</summary>
    protected virtual void Stopped()
    {
    }

    [OneTimeSetUp]
    public void StartFixtureAgent() => If(AgentPer.Fixture, Begin);

    [OneTimeTearDown]
    public void StopFixtureAgent() => If(AgentPer.Fixture, End);

    [SetUp]
    public void StartTestAgent() => If(AgentPer.Test, Begin);

    [TearDown]
    public void StopTestAgent() => If(AgentPer.Test, End);

    private void If(AgentPer lifetime, Action action)
    {
        if (per == lifetime)
        {
            action();
        }
    }

    private void Begin()
    {
        Sandbox = new MeeshkanSandbox();
        Prepare(Sandbox);
        StartAgent(Sandbox);
    }

    private void End()
    {
        Sandbox.Dispose();
        Stopped();
    }
}
