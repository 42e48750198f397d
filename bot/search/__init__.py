"""What `/papers search` asks for and how text becomes search tokens (the archive's index is in
``bot.feed``)."""
