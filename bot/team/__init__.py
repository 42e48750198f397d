"""The team layer (issue 16): personal reading lists, the signals a team gives papers (saves, shares,
reactions on the bot's posts), the team picks drawn from them, and the weekly recap's choice of papers."""
