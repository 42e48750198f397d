"""Posting: the post runner, the scheduler and leader election, reconciling cut-off posts, operator alerts."""
