"""Regression samples run before publishing: a failing one blocks the publish unless overridden."""


def failures(flow, draft) -> list:
    """The pinned samples of `flow` whose expected output the draft no longer produces.

    Each item describes one sample and the difference between expected and actual output;
    an empty list means publishing may go ahead. (No samples can be pinned yet.)"""
    return []
