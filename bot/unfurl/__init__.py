"""Link cards: arXiv and Hugging Face paper links pasted in Slack get the paper's card (``link_shared`` ->
``chat.unfurl``), from a per-paper cache so a burst of the same link costs one upstream call."""
