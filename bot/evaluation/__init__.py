"""Evaluations that run the bot's own path end to end: NAB through the detector ensemble as the
investigation uses it, and the simulated scenarios through investigate, plan and propose."""
