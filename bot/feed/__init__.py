"""Where papers come from: Hugging Face's API (one fetch per day list), the paper model, and the
local archive of every day fetched."""
