"""Hourly roll-ups of the run table for the dashboard's 30-day panels (docs/BENCHMARKS.md,
issue 12): per hour and status, the runs, the timed runs, their summed duration and a
histogram of durations. A periodic job keeps them (job.py); the panels read closed hours
from them and everything else live (read.py), so the figures equal a live aggregate."""
