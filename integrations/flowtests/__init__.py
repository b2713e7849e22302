"""Testing a flow before it goes live: pinned samples, regression checks run before publishing."""
