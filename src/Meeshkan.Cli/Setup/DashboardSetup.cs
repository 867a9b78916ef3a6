using Meeshkan.Agent.Config;
using Meeshkan.Agent.Dashboard;

namespace Meeshkan.Cli.Setup;

/// <summary>`meeshkan setup --dashboard ADDRESS:PORT`, or --no-dashboard.</summary>
internal sealed record DashboardSetup(string? Address, bool Off)
{
    public bool Any => Address is not null || Off;

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message when the address is not usable.</summary>
    public void ApplyTo(AgentConfig config)
    {
        if (Address is not null && Off)
        {
            throw new ArgumentException("give --dashboard ADDRESS:PORT or --no-dashboard, not both");
        }
        if (Off)
        {
            config.Dashboard = DashboardListener.Off;
        }
        else if (Address is not null)
        {
            DashboardListener.Parse(Address);
            config.Dashboard = Address.Trim();
        }
    }
}
