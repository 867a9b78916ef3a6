"""report_scalar: argument errors at the call, and what reaches the agent."""

from __future__ import annotations

import fractions
import math

import grpc
import pytest

import meeshkan
from meeshkan import _reporter


class OneElementTensor:
    def __float__(self) -> float:
        return 0.25


class ManyElementTensor:
    def __float__(self) -> float:
        raise ValueError("only one element tensors can be converted to Python scalars")


def buffered() -> list[tuple[str, float, int]]:
    return _reporter.current().buffered()


class TestArgumentErrors:
    @pytest.mark.parametrize("args", [("a", 1, "b"), ("a", 1, "b", 2, "c")])
    def test_odd_number_of_arguments_is_a_type_error(self, args: tuple) -> None:
        with pytest.raises(TypeError, match="name, value pairs"):
            meeshkan.report_scalar(*args)

    @pytest.mark.parametrize("name", [1, None, b"loss", ("loss",)])
    def test_a_name_that_is_not_a_str_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="names must be str"):
            meeshkan.report_scalar(name, 1.0)
        with pytest.raises(TypeError, match="names must be str"):
            meeshkan.report_scalar("ok", 1.0, name, 2.0)

    def test_an_empty_name_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            meeshkan.report_scalar("", 1.0)

    @pytest.mark.parametrize("name", ["n" * 603, "  ", "bad\x1b[2Jname", "nul\0", "tab\there", "\x85"])
    def test_a_name_the_agent_would_refuse_is_a_value_error_and_nothing_is_recorded(self, name: str) -> None:
        meeshkan.report_scalar("loss", 1.0)
        with pytest.raises(ValueError):
            meeshkan.report_scalar(name, 2.0)
        with pytest.raises(ValueError):
            meeshkan.report_scalar("loss", 3.0, name, 4.0)
        meeshkan.report_scalar("loss", 5.0)
        assert [(n, v) for n, v, _ in buffered()] == [("loss", 1.0), ("loss", 5.0)]

    def test_a_name_of_512_characters_is_accepted(self) -> None:
        meeshkan.report_scalar("n" * 512, 1.0)
        assert [n for n, _, _ in buffered()] == ["n" * 512]

    @pytest.mark.parametrize("value", ["1.5", None, [1.0], 1j, object(), b"1"])
    def test_a_value_that_is_not_a_number_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="must be a number"):
            meeshkan.report_scalar("loss", value)
        with pytest.raises(TypeError, match="must be a number"):
            meeshkan.report_scalar("ok", 1.0, "loss", value)

    def test_a_multi_element_tensor_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="single number"):
            meeshkan.report_scalar("loss", ManyElementTensor())

    def test_an_int_too_large_for_a_float_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="too large"):
            meeshkan.report_scalar("loss", 10**400)

    def test_a_bad_pair_records_none_of_the_call(self) -> None:
        with pytest.raises(TypeError):
            meeshkan.report_scalar("a", 1.0, "b", "two")
        assert buffered() == []


class TestAcceptedValues:
    def test_numbers_are_stored_as_floats(self) -> None:
        meeshkan.report_scalar("i", 3, "f", 0.5, "b", True, "q", fractions.Fraction(1, 4),
                               "t", OneElementTensor())
        values = [(name, value) for name, value, _ in buffered()]
        assert values == [("i", 3.0), ("f", 0.5), ("b", 1.0), ("q", 0.25), ("t", 0.25)]
        assert all(type(value) is float for _, value in values)

    def test_nan_and_infinities_reach_the_agent(self, agent, job_id) -> None:
        meeshkan.report_scalar("nan", math.nan, "inf", math.inf, "-inf", -math.inf)
        assert meeshkan.flush(5)
        values = {name: value for name, value, _ in agent.points(job_id)}
        assert math.isnan(values["nan"])
        assert values["inf"] == math.inf and values["-inf"] == -math.inf


class TestDelivery:
    def test_scalars_arrive_column_wise_with_wall_times_and_no_steps(self, agent, job_id) -> None:
        meeshkan.report_scalar("train loss", 0.5, "eval loss", 0.7)
        meeshkan.report_scalar("train loss", 0.4)
        assert meeshkan.flush(5)
        [batch] = agent.requests("ReportScalars")
        assert batch.job_id == job_id
        assert list(batch.names) == ["train loss", "eval loss"]
        assert list(batch.name_index) == [0, 1, 0]
        assert list(batch.values) == [0.5, 0.7, 0.4]
        assert len(batch.wall_time_us) == 3 and batch.wall_time_us[0] > 1_600_000_000_000_000
        assert list(batch.steps) == []
        assert batch.client_id and batch.sequence >= 1

    def test_many_points_are_split_into_batches_of_at_most_50000(self, agent, job_id) -> None:
        for i in range(120_000):
            meeshkan.report_scalar("loss", i)
        assert meeshkan.flush(30)
        batches = agent.requests("ReportScalars")
        assert len(batches) >= 3
        assert all(len(b.values) <= 50_000 for b in batches)
        assert [v for _, v, _ in agent.points(job_id)] == [float(i) for i in range(120_000)]
        assert len({b.sequence for b in batches}) == len(batches)

    def test_a_retried_batch_carries_the_same_sequence(self, agent, job_id) -> None:
        agent.fail_after_store.append(grpc.StatusCode.UNAVAILABLE)  # stored, but reply lost
        meeshkan.report_scalar("loss", 1.0)
        assert meeshkan.flush(5) is False
        assert meeshkan.flush(5) is True
        first, second = agent.requests("ReportScalars")
        assert (first.client_id, first.sequence) == (second.client_id, second.sequence)
        assert list(first.values) == list(second.values) == [1.0]
        assert len(agent.points(job_id)) == 1

    def test_a_batch_refused_for_a_finished_job_is_dropped_with_one_warning(
            self, agent, job_id, capsys) -> None:
        agent.refuse_scalars = grpc.StatusCode.FAILED_PRECONDITION
        meeshkan.report_scalar("loss", 1.0)
        assert meeshkan.flush(5)
        meeshkan.report_scalar("loss", 2.0)
        assert meeshkan.flush(5)
        assert len(agent.requests("ReportScalars")) == 2  # each sent once, never retried
        assert capsys.readouterr().err.count("finished or unknown") == 1

    def test_notify_is_sent_after_the_scalars_reported_before_it(self, agent, job_id) -> None:
        meeshkan.report_scalar("loss", 1.0)
        meeshkan.notify("epoch done")
        assert meeshkan.flush(5)
        methods = [name for name, _ in agent.calls]
        assert methods == ["ReportScalars", "Notify"]
        [note] = agent.requests("Notify")
        assert (note.job_id, note.message) == (job_id, "epoch done")

    def test_notify_needs_a_str(self) -> None:
        with pytest.raises(TypeError):
            meeshkan.notify(42)


class TestWithoutAgent:
    def test_no_agent_warns_once_keeps_the_points_and_sends_them_later(
            self, job_id, socket_path, capsys) -> None:
        from fake_agent import FakeAgent

        for i in range(10):
            meeshkan.report_scalar("loss", i)
            assert meeshkan.flush(5) is False
        err = capsys.readouterr().err
        assert err.count("not reachable") == 1 and socket_path in err
        late = FakeAgent(socket_path).start()
        try:
            assert late.wait_for(lambda: meeshkan.flush(5))
            assert [v for _, v, _ in late.points(job_id)] == [float(i) for i in range(10)]
        finally:
            late.stop()

    def test_the_backlog_is_bounded_and_keeps_the_newest(
            self, job_id, socket_path, monkeypatch, capsys) -> None:
        from fake_agent import FakeAgent

        monkeypatch.setattr(_reporter, "BATCH_POINTS", 10)
        monkeypatch.setattr(_reporter, "MAX_BUFFERED_POINTS", 30)
        for i in range(100):
            meeshkan.report_scalar("loss", i)
            if i % 10 == 9:
                meeshkan.flush(5)
        assert capsys.readouterr().err.count("dropping the oldest") == 1
        late = FakeAgent(socket_path).start()
        try:
            assert late.wait_for(lambda: meeshkan.flush(5))
            values = [v for _, v, _ in late.points(job_id)]
            assert values == [float(i) for i in range(70, 100)]
        finally:
            late.stop()

    def test_outside_a_job_values_are_dropped_with_one_warning(self, capsys) -> None:
        for i in range(1000):
            meeshkan.report_scalar("loss", i)
        assert meeshkan.flush(5)
        meeshkan.report_scalar("loss", 1.0)
        meeshkan.notify("hello")
        assert meeshkan.flush(5)
        err = capsys.readouterr().err
        assert err.count("not running as a Meeshkan job; scalars are not recorded") == 1
        assert _reporter.current().buffered() == []
