"""add_condition: argument checks at registration, callables evaluated here, expressions there."""

from __future__ import annotations

import pytest

import meeshkan


def met_requests(agent) -> list:
    return agent.requests("ReportConditionMet")


class TestArgumentErrors:
    def test_no_arguments(self) -> None:
        with pytest.raises(TypeError, match="needs scalar names"):
            meeshkan.add_condition()

    def test_names_without_a_condition(self) -> None:
        with pytest.raises(TypeError, match="no condition"):
            meeshkan.add_condition("a", "b")

    def test_a_name_that_is_not_a_str(self) -> None:
        with pytest.raises(TypeError, match="names must be str"):
            meeshkan.add_condition("a", 3, lambda a, b: True)

    def test_an_empty_name(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            meeshkan.add_condition("", lambda a: True)

    def test_a_condition_that_is_not_callable(self) -> None:
        with pytest.raises(TypeError, match="callable"):
            meeshkan.add_condition("a", condition=5)

    def test_a_callable_without_names(self) -> None:
        with pytest.raises(ValueError, match="at least one scalar name"):
            meeshkan.add_condition(lambda: True)

    @pytest.mark.parametrize("names, function", [
        (("a",), lambda a, b: a > b),
        (("a", "b"), lambda a: a > 1),
        (("a", "b", "c"), lambda a, b=1: a > b),
    ])
    def test_the_callable_must_take_one_argument_per_name(self, names, function) -> None:
        with pytest.raises(ValueError, match=r"takes .* argument\(s\) but \d scalar name"):
            meeshkan.add_condition(*names, function)
        with pytest.raises(ValueError, match="argument"):
            meeshkan.add_condition(*names, condition=function)

    def test_required_keyword_only_parameters_are_refused(self) -> None:
        def check(a, *, limit):
            return a > limit

        with pytest.raises(ValueError, match="keyword-only"):
            meeshkan.add_condition("a", check)

    def test_an_empty_expression(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            meeshkan.add_condition("   ")

    def test_only_reported_must_be_a_bool(self) -> None:
        with pytest.raises(TypeError, match="only_reported"):
            meeshkan.add_condition("a", lambda a: True, only_reported="yes")

    def test_an_unknown_action(self) -> None:
        with pytest.raises(ValueError, match="'notify' or 'stop'"):
            meeshkan.add_condition("isnan(loss)", action="kill")
        with pytest.raises(TypeError, match="action must be a str"):
            meeshkan.add_condition("isnan(loss)", action=True)

    def test_variadic_and_default_parameters_accept_matching_counts(self) -> None:
        meeshkan.add_condition("a", "b", "c", lambda *values: max(values) > 1)
        meeshkan.add_condition("a", lambda a, b=2: a > b)
        meeshkan.add_condition("a", "b", lambda a, b=2: a > b)


class TestStopAction:
    def test_an_expression_that_stops_the_job_is_registered_with_the_stop_action(self, agent, job_id) -> None:
        meeshkan.add_condition("isnan(loss)", action="stop")
        [registration] = agent.requests("AddCondition")
        assert registration.expression == "isnan(loss)"
        assert registration.action == 2  # CONDITION_ACTION_STOP

    def test_a_callable_that_stops_the_job_is_registered_with_the_stop_action(self, agent, job_id) -> None:
        meeshkan.add_condition("loss", lambda loss: loss != loss, action="stop")
        [registration] = agent.requests("AddCondition")
        assert registration.evaluated_by_client and registration.action == 2

    def test_notify_is_the_default(self, agent, job_id) -> None:
        meeshkan.add_condition("loss > 1")
        [registration] = agent.requests("AddCondition")
        assert registration.action == 1  # CONDITION_ACTION_NOTIFY


class TestCallableConditions:
    def test_positional_callable_is_registered_and_reported_when_met(self, agent, job_id) -> None:
        meeshkan.add_condition("train loss", lambda loss: loss < 0.5)
        [registration] = agent.requests("AddCondition")  # synchronous when the agent answers
        assert registration.evaluated_by_client and registration.job_id == job_id
        assert list(registration.names) == ["train loss"]
        assert registration.description == "lambda loss: loss < 0.5"
        assert registration.expression == ""
        meeshkan.report_scalar("train loss", 0.9)
        assert meeshkan.flush(5)
        assert met_requests(agent) == []
        meeshkan.report_scalar("train loss", 0.1)
        assert meeshkan.flush(5)
        [met] = met_requests(agent)
        assert met.job_id == job_id
        assert dict(met.values) == {"train loss": 0.1}

    def test_keyword_condition_and_named_function(self, agent, job_id) -> None:
        def diverging(train, evaluation):
            return abs(train - evaluation) > 0.2

        meeshkan.add_condition("train", "eval", condition=diverging, only_reported=True)
        [registration] = agent.requests("AddCondition")
        assert registration.description.endswith("diverging")
        assert registration.only_reported
        meeshkan.report_scalar("train", 0.1, "eval", 0.5)
        assert meeshkan.flush(5)
        [met] = met_requests(agent)
        assert dict(met.values) == {"train": 0.1, "eval": 0.5}
        assert met.condition_id

    def test_a_scalar_not_reported_yet_counts_as_one(self, agent, job_id) -> None:
        seen = []
        meeshkan.add_condition("a", "b", lambda a, b: seen.append((a, b)) or b == 1)
        meeshkan.report_scalar("a", 10.0)
        assert meeshkan.flush(5)
        assert seen == [(10.0, 1.0)]
        [met] = met_requests(agent)
        assert dict(met.values) == {"a": 10.0, "b": 1.0}

    def test_the_condition_sees_the_latest_values(self, agent, job_id) -> None:
        seen = []
        meeshkan.add_condition("a", lambda a: seen.append(a))
        for i in range(100):
            meeshkan.report_scalar("a", i)
        assert meeshkan.flush(5)
        assert seen and seen[-1] == 99.0

    def test_every_report_is_checked_not_only_the_latest(self, agent, job_id) -> None:
        seen = []
        meeshkan.add_condition("a", lambda a: seen.append(a) or a < 0)
        for i in range(100):
            meeshkan.report_scalar("a", -1.0 if i == 50 else float(i))
        assert meeshkan.flush(5)
        assert seen[:51] == [float(i) for i in range(50)] + [-1.0]
        [met] = met_requests(agent)
        assert dict(met.values) == {"a": -1.0}

    def test_the_pairs_of_one_call_are_checked_together(self, agent, job_id) -> None:
        seen = []
        meeshkan.add_condition("a", "b", lambda a, b: seen.append((a, b)) or False)
        meeshkan.report_scalar("a", 2.0, "b", 3.0)
        assert meeshkan.flush(5)
        assert seen == [(2.0, 3.0)]

    def test_the_condition_is_met_after_its_scalars_are_stored(self, agent, job_id) -> None:
        meeshkan.add_condition("loss", lambda loss: loss > 1)
        meeshkan.report_scalar("loss", 2.0)
        assert meeshkan.flush(5)
        methods = [name for name, _ in agent.calls]
        assert methods == ["AddCondition", "ReportScalars", "ReportConditionMet"]

    def test_a_condition_that_raises_warns_once_and_reporting_goes_on(
            self, agent, job_id, capsys) -> None:
        meeshkan.add_condition("loss", lambda loss: 1 / 0)
        for i in range(3):
            meeshkan.report_scalar("loss", i)
            assert meeshkan.flush(5)
        assert capsys.readouterr().err.count("ZeroDivisionError") == 1
        assert len(agent.points(job_id)) == 3

    def test_registration_waits_for_an_unreachable_agent(self, job_id, socket_path) -> None:
        from fake_agent import FakeAgent

        meeshkan.add_condition("loss", lambda loss: loss < 1)
        meeshkan.add_condition("loss > 5")
        late = FakeAgent(socket_path).start()
        try:
            meeshkan.report_scalar("loss", 0.5)
            assert late.wait_for(lambda: meeshkan.flush(5))
            registrations = late.requests("AddCondition")
            assert [r.evaluated_by_client for r in registrations] == [True, False]
            assert len(late.requests("ReportConditionMet")) == 1
        finally:
            late.stop()


class TestExpressionConditions:
    def test_an_expression_is_forwarded_to_the_agent(self, agent, job_id) -> None:
        meeshkan.add_condition("eval_loss - train_loss > 0.2")
        [registration] = agent.requests("AddCondition")
        assert registration.expression == "eval_loss - train_loss > 0.2"
        assert not registration.evaluated_by_client
        assert list(registration.names) == []
        assert registration.job_id == job_id

    def test_an_expression_as_keyword_with_names(self, agent, job_id) -> None:
        meeshkan.add_condition("a", "b", condition="a > b")
        [registration] = agent.requests("AddCondition")
        assert registration.expression == "a > b" and list(registration.names) == ["a", "b"]

    def test_an_expression_the_agent_rejects_is_a_value_error(self, agent, job_id) -> None:
        with pytest.raises(ValueError, match="INVALID_ARGUMENT"):
            meeshkan.add_condition("eval_loss >")
        meeshkan.report_scalar("eval_loss", 1.0)
        assert meeshkan.flush(5)
        assert len(agent.requests("AddCondition")) == 1  # not registered again later


class TestDescriptions:
    def test_a_lambda_is_described_by_its_own_source(self) -> None:
        from meeshkan._conditions import describe

        # (Lambdas are not written inside assert statements: pytest's rewriting moves their
        # line numbers to the assert's first line.)
        one_line = describe(lambda a, b: (a - b) > 0.2)
        conditions = dict(first=lambda v: v < [1, 2][0], other=1)
        multi_line = describe(
            lambda a:
                a > 3  # a comment
        )
        assert one_line == "lambda a, b: (a - b) > 0.2"
        assert describe(conditions["first"]) == "lambda v: v < [1, 2][0]"
        assert multi_line == "lambda a: a > 3"

    def test_a_function_is_described_by_its_name(self) -> None:
        from meeshkan._conditions import describe

        def overfitting(train, test):
            return test - train > 0.1

        assert describe(overfitting).endswith("overfitting")
        assert describe(max) == "max"
