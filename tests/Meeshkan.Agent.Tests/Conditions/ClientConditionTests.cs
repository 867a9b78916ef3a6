using Grpc.Core;
using Meeshkan.Agent.Store;
using Meeshkan.V1;

namespace Meeshkan.Agent.Tests.Conditions;

/// <summary>Conditions a client evaluates itself (a Python or C# lambda) and reports met.</summary>
[TestFixture]
public sealed class ClientConditionTests : ConditionBedFixture
{
    private string AddClientCondition(JobRecord? job = null) =>
        Bed.Engine.Add(job ?? Bed.Job, new AddConditionRequest
        {
            EvaluatedByClient = true, Names = { "eval_loss", "train_loss" }, Description = "lambda e, t: e - t > 0.2",
        }).Id;

    [Test]
    public void Registration_keeps_the_names_and_description()
    {
        var (id, names) = Bed.Engine.Add(Bed.Job, new AddConditionRequest
        {
            EvaluatedByClient = true, Names = { "eval_loss", "train_loss" }, Description = "lambda e, t: e - t > 0.2",
        });

        Assert.That(names, Is.EqualTo(new[] { "eval_loss", "train_loss" }));
        Bed.Engine.RecordClientFiring(Bed.Job, id, new Dictionary<string, double> { ["eval_loss"] = 2 });
        Assert.That(Bed.Events().Single().Description, Is.EqualTo("lambda e, t: e - t > 0.2"));
    }

    [Test]
    public void A_firing_is_recorded_with_the_clients_values_and_told()
    {
        var id = AddClientCondition();

        var recorded = Bed.Engine.RecordClientFiring(Bed.Job, id, new Dictionary<string, double> { ["eval_loss"] = 1.5, ["train_loss"] = 1.0 });

        Assert.That(recorded, Is.True);
        var evt = Bed.Events().Single();
        Assert.That(evt.ConditionId, Is.EqualTo(id));
        Assert.That(evt.Values, Is.EquivalentTo(new Dictionary<string, double> { ["eval_loss"] = 1.5, ["train_loss"] = 1.0 }));
        Assert.That(Bed.Observer.Met.Single().Event.ConditionId, Is.EqualTo(id));
    }

    [Test]
    public void The_agent_applies_the_cooldown()
    {
        var id = AddClientCondition();
        var values = new Dictionary<string, double> { ["eval_loss"] = 1.5 };

        Assert.That(Bed.Engine.RecordClientFiring(Bed.Job, id, values), Is.True);
        Bed.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(Bed.Engine.RecordClientFiring(Bed.Job, id, values), Is.False);
        Bed.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.That(Bed.Engine.RecordClientFiring(Bed.Job, id, values), Is.True);

        Assert.That(Bed.Events(), Has.Count.EqualTo(2));
        Assert.That(Bed.Observer.Met, Has.Count.EqualTo(2));
    }

    [Test]
    public void Reported_scalars_do_not_fire_a_client_condition()
    {
        AddClientCondition();

        Bed.Report(("eval_loss", 100.0), ("train_loss", 0.0));

        Assert.That(Bed.Events(), Is.Empty);
    }

    [Test]
    public void An_unknown_id_is_not_found()
    {
        AddClientCondition();

        var unknown = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.Engine.RecordClientFiring(Bed.Job, Guid.NewGuid().ToString(), new Dictionary<string, double>())));
        Assert.That(unknown!.StatusCode, Is.EqualTo(StatusCode.NotFound));

        var empty = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.Engine.RecordClientFiring(Bed.Job, "", new Dictionary<string, double>())));
        Assert.That(empty!.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public void Another_jobs_condition_is_not_found()
    {
        var other = Bed.NewJob();
        var othersId = AddClientCondition(other);

        var error = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.Engine.RecordClientFiring(Bed.Job, othersId, new Dictionary<string, double>())));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(Bed.Events(other), Is.Empty);
    }

    [Test]
    public void An_agent_evaluated_condition_cannot_be_reported_met()
    {
        var id = Bed.AddExpression("loss > 1");

        var error = Assert.Throws<RpcException>(() => ConditionTestBed.AsServed(() => Bed.Engine.RecordClientFiring(Bed.Job, id, new Dictionary<string, double>())));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
    }
}
