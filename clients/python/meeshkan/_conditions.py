"""Conditions: when to notify, checked by the agent (expressions) or here (callables).

A callable condition is evaluated in the reporter's background thread with the latest value of
each of its scalars (1.0 for a scalar not reported yet), never on the training thread.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import linecache
from typing import Any, Callable, Mapping, Sequence

DEFAULT_VALUE = 1.0

#: What the agent does when a condition is met: notify, or stop the job.
ACTIONS = ("notify", "stop")

_local_ids = itertools.count(1)


class Condition:
    """One add_condition call: either an expression or a callable over named scalars."""

    def __init__(
        self,
        names: Sequence[str],
        *,
        function: Callable[..., Any] | None = None,
        expression: str | None = None,
        only_reported: bool = False,
        action: str = "notify",
    ) -> None:
        self.local_id = next(_local_ids)
        self.names = list(names)
        self.function = function
        self.expression = expression
        self.only_reported = only_reported
        self.action = action
        self.description = expression if function is None else describe(function)
        # The agent's id for this condition, per job id it was registered with.
        self.agent_ids: dict[str, str] = {}
        self.rejected = False

    @property
    def evaluated_by_client(self) -> bool:
        return self.function is not None

    def values(self, latest: Mapping[str, float]) -> dict[str, float]:
        return {name: latest.get(name, DEFAULT_VALUE) for name in self.names}

    def is_met(self, latest: Mapping[str, float]) -> bool:
        """Calls the function with the latest values; exceptions propagate to the caller."""
        assert self.function is not None
        return bool(self.function(*(latest.get(name, DEFAULT_VALUE) for name in self.names)))

    def __repr__(self) -> str:
        return f"Condition({self.names!r}, {self.description!r})"


def parse(
    args: tuple[Any, ...],
    condition: Callable[..., Any] | str | None,
    only_reported: bool,
    action: str = "notify",
) -> Condition:
    """Validates add_condition's arguments and builds the Condition.

    Raises TypeError for arguments of the wrong type and ValueError for wrong values (no names,
    an empty expression, a callable whose parameters do not match the number of names).
    """
    if not isinstance(only_reported, bool):
        raise TypeError(f"only_reported must be a bool, not {type(only_reported).__name__}")
    if not isinstance(action, str):
        raise TypeError(f"action must be a str, not {type(action).__name__}")
    if action not in ACTIONS:
        raise ValueError(f"action must be 'notify' or 'stop', not {action!r}")
    names = list(args)
    if condition is None and names and callable(names[-1]):
        condition = names.pop()
    if condition is None:
        if len(names) == 1 and isinstance(names[0], str):
            return _expression(names.pop(), [], only_reported, action)
        if not names:
            raise TypeError("add_condition() needs scalar names and a condition (a callable), "
                            "or one expression string")
        raise TypeError("add_condition() got scalar names but no condition: pass a callable "
                        "as the last argument or as condition=")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"scalar names must be str, not {type(name).__name__}: {name!r}")
        if not name:
            raise ValueError("scalar names must not be empty")
    if isinstance(condition, str):
        return _expression(condition, names, only_reported, action)
    if not callable(condition):
        raise TypeError(f"condition must be callable or an expression string, "
                        f"not {type(condition).__name__}")
    if not names:
        raise ValueError("add_condition() with a callable needs at least one scalar name")
    _check_arity(condition, len(names))
    return Condition(names, function=condition, only_reported=only_reported, action=action)


def _expression(expression: Any, names: list[str], only_reported: bool, action: str) -> Condition:
    if not isinstance(expression, str):
        raise TypeError(f"expression must be str, not {type(expression).__name__}")
    if not expression.strip():
        raise ValueError("the condition expression is empty")
    return Condition(names, expression=expression.strip(), only_reported=only_reported,
                     action=action)


def _check_arity(function: Callable[..., Any], count: int) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have no signature: accept them
        return
    positional = [
        p for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is p.empty]
    required_kw = [
        p for p in signature.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    if required_kw:
        raise ValueError(f"condition {describe(function)!r} has required keyword-only "
                         f"parameters {[p.name for p in required_kw]}; it is called positionally")
    variadic = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    if count < len(required) or (count > len(positional) and not variadic):
        expected = (
            f"{len(required)}" if len(required) == len(positional) and not variadic
            else f"at least {len(required)}" if variadic
            else f"{len(required)} to {len(positional)}"
        )
        raise ValueError(
            f"condition {describe(function)!r} takes {expected} argument(s) but "
            f"{count} scalar name(s) were given"
        )


def describe(function: Callable[..., Any]) -> str:
    """The lambda's source text, or the function's qualified name."""
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if name and "<lambda>" not in name:
        return name
    return _lambda_source(function) or name or repr(function)


def _lambda_source(function: Callable[..., Any]) -> str | None:
    """The text of the first lambda starting on the function's first line, parsed to be sure."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    lines = linecache.getlines(code.co_filename)
    first = code.co_firstlineno - 1
    if not 0 <= first < len(lines):
        return None
    column = lines[first].find("lambda")
    if column < 0:
        return None
    text = "".join([lines[first][column:], *lines[first + 1:first + 20]])[:2000]
    # The longest prefix that parses as a lambda, cut before a "," or a closing bracket.
    cuts = [i for i, char in enumerate(text) if char in ",)]}"] + [len(text)]
    for cut in reversed(cuts):
        candidate = text[:cut].strip()
        try:  # in brackets, so that line breaks and comments inside the lambda are allowed
            node = ast.parse("(" + candidate + "\n)", mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, ast.Lambda):
            return " ".join(candidate.split()) if "#" not in candidate else ast.unparse(node)
    return None
