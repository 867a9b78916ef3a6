using Grpc.Core;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>What AddCondition refuses, and why: the user reads the reason.</summary>
[TestFixture]
public sealed class ConditionRegistrationTests : ConditionBedFixture
{
    [TestCase("eval_loss >", "not a valid expression")]
    [TestCase("(a > 1", "not a valid expression")]
    [TestCase("", "empty")]
    [TestCase("   ", "empty")]
    [TestCase("1 > 0", "reads no scalar")]
    [TestCase("true", "reads no scalar")]
    [TestCase("eval_loss - train_loss", "is a number, not true or false")]
    [TestCase("a > 1 and b", "needs a comparison")]
    [TestCase("a + (b > 1) > 0", "needs numbers")]
    [TestCase("a == true", "mixes a number and true/false")]
    [TestCase("foo(a) > 1", "foo(), which is not known")]
    [TestCase("abs(a, b) > 1", "takes 1 argument(s), not 2")]
    [TestCase("name == 'resnet'", "conditions compare numbers")]
    [TestCase("a & 1 > 0", "not support")]
    [TestCase("[a\tb] > 1", "control characters")]
    [TestCase("[] > 1", "not a valid expression")]
    public void A_bad_expression_is_refused_with_the_reason(string expression, string reason)
    {
        var error = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.AddExpression(expression)));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain(reason));
    }

    [TestCase("eval_loss >", "at column 11")]
    [TestCase("(a > 1", "parenthesis not closed at column 7")]
    [TestCase("a >= 1 and and b > 2", "invalid token in expression at column 16")]
    [TestCase("a > 1 and isnun(b)", "isnun(), which is not known (at column 11)")]
    [TestCase("isinf(a, b)", "isinf() takes 1 argument(s), not 2")]
    public void A_syntax_error_says_where_it_is(string expression, string reason)
    {
        var error = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.AddExpression(expression)));

        Assert.That(error!.Status.Detail, Does.Contain(reason));
    }

    [Test]
    public void A_refused_expression_is_not_kept()
    {
        Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.AddExpression("a >")));

        Bed.Restart();
        Bed.Report(("a", 5.0));

        Assert.That(Bed.Events(), Is.Empty);
    }

    [Test]
    public void A_client_condition_needs_valid_names()
    {
        var none = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.Engine.Add(Bed.Job, new AddConditionRequest { EvaluatedByClient = true })));
        Assert.That(none!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(none.Status.Detail, Does.Contain("needs the names"));

        var empty = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() =>
            Bed.Engine.Add(Bed.Job, new AddConditionRequest { EvaluatedByClient = true, Names = { "loss", " " } })));
        Assert.That(empty!.Status.Detail, Does.Contain("empty"));

        var control = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() =>
            Bed.Engine.Add(Bed.Job, new AddConditionRequest { EvaluatedByClient = true, Names = { "lo\nss" } })));
        Assert.That(control!.Status.Detail, Does.Contain("control characters"));
    }

    [Test]
    public void A_negative_cooldown_is_refused()
    {
        var error = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.AddExpression("loss > 1", cooldownSeconds: -5)));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("cooldown_seconds"));
    }

    [Test]
    public void Each_condition_gets_its_own_uuid()
    {
        var first = Bed.AddExpression("loss > 1");
        var second = Bed.AddExpression("loss > 1");

        Assert.That(Guid.TryParse(first, out _) && Guid.TryParse(second, out _));
        Assert.That(first, Is.Not.EqualTo(second));
    }
}
