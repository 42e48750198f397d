"""Where papers come from: Hugging Face's API (one fetch per day list), the paper model, the local
archive of every day fetched, and arXiv's API for one paper (link cards of papers Hugging Face lacks)."""
