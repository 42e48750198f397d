"""What users see: Block Kit builders, user-visible text and the ids that tie Slack's callbacks to
them. Pure: nothing here does I/O."""
