using Meeshkan.Agent.Notifications;

namespace Meeshkan.Agent.Tests.Notifications;

/// <summary>Values in notification tables: friendly, never a misleading rounding (issue 20, item 1).</summary>
[TestFixture]
public sealed class NumberTextTests
{
    [TestCase(499999.5, "499999.5")]
    [TestCase(1004999, "1004999")]
    [TestCase(8.86294e-06, "8.86e-06")]
    [TestCase(3.141592653589793, "3.14159")]
    [TestCase(0.000123456, "0.000123456")]
    [TestCase(0.5, "0.5")]
    [TestCase(-2.25, "-2.25")]
    [TestCase(0.0, "0")]
    [TestCase(123456.789, "123456.8")]
    [TestCase(1.5e20, "1.5e+20")]
    [TestCase(double.NaN, "NaN")]
    [TestCase(double.NegativeInfinity, "-inf")]
    public void Values_read_as_a_person_expects(double value, string expected) =>
        Assert.That(NotificationText.Number(value), Is.EqualTo(expected));

    [Test]
    public void A_table_never_shows_the_dotnet_exponent_form()
    {
        var table = NotificationText.ScalarTable([new ScalarLine("lr", 8.86294e-06, 3, -1.2e-07)]);
        Assert.That(table, Does.Contain("8.86e-06").And.Not.Contain("E-"));
    }
}
