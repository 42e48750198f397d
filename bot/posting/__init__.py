"""Posting: the post runner (planning, delivery, continuation, settling cut-off runs), the scheduler
and leader election, operator alerts, and follow-ups in a post's thread."""
