using Meeshkan.Agent.Config;
using Meeshkan.Agent.Dashboard;

namespace Meeshkan.Cli.Setup;

/// <summary>setup's --dashboard ADDR:PORT and --no-dashboard.</summary>
internal static class DashboardSetup
{
    public static void ApplyTo(AgentConfig config, string? address, bool off)
    {
        if (address is not null && off)
        {
            throw new ArgumentException("give --dashboard ADDRESS:PORT or --no-dashboard, not both");
        }
        if (off)
        {
            config.Dashboard = DashboardListener.Off;
        }
        else if (address is not null)
        {
            DashboardListener.Parse(address);
            config.Dashboard = address.Trim();
        }
    }
}
