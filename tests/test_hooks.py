"""The hook mechanism (integrations/hooks.py): a lower app announces, higher apps' handlers
run in the order connected, in the caller's transaction, and their errors are not swallowed."""

import pytest

from integrations.hooks import Hook


def test_handlers_run_in_order_with_the_keyword_arguments_and_their_results_come_back():
    hook, calls = Hook("test.happened"), []
    hook.connect(lambda **kw: calls.append(("first", kw)) or 1)
    hook.connect(lambda **kw: calls.append(("second", kw)) or 2)
    assert hook.send(thing=7) == [1, 2]
    assert calls == [("first", {"thing": 7}), ("second", {"thing": 7})]


def test_an_error_in_a_handler_reaches_the_sender_and_stops_the_rest():
    hook, later = Hook("test.fails"), []

    def broken(**kw):
        raise RuntimeError("handler bug")

    hook.connect(broken)
    hook.connect(lambda **kw: later.append(kw))
    with pytest.raises(RuntimeError, match="handler bug"):
        hook.send(x=1)
    assert later == []


def test_connecting_the_same_handler_twice_keeps_one_and_nothing_connected_sends_nothing():
    hook, calls = Hook("test.once"), []

    def handler(**kw):
        calls.append(kw)

    hook.connect(handler)
    hook.connect(handler)  # a second AppConfig.ready(), as in some test runners
    hook.send()
    assert calls == [{}]
    hook.disconnect(handler)
    assert hook.send() == []


def test_the_higher_apps_are_connected_at_start_up():
    """What each lower app announces has its listener once Django has started."""
    from integrations.approvals.hooks import approval_decided
    from integrations.connections.hooks import flows_using
    from integrations.deliveries.hooks import delivery_finished
    from integrations.events.hooks import event_stored
    from integrations.flows import usage
    from integrations.flows.hooks import settings_changed, status_changed, version_published
    from integrations.runs import invoke, resume, services
    from integrations.triggers import schedules

    assert resume.on_delivery_finished in delivery_finished.handlers
    assert resume.on_approval_decided in approval_decided.handlers
    assert services.start_runs_for_event in event_stored.handlers
    assert usage.flows_using in flows_using.handlers
    assert schedules.on_flow_changed in version_published.handlers
    assert schedules.on_flow_changed in status_changed.handlers
    for hook in (version_published, status_changed, settings_changed):
        assert invoke.forget_on_commit in hook.handlers
