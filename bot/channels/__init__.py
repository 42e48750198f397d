"""A channel's configuration as use cases: filter and schedule edits, who may change them, and the
schedule and time-zone rules."""
