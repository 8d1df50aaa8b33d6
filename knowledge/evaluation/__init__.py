"""Evaluation on public benchmark data: Nezha fault-injection incidents (root-cause ranking and
similar-incident retrieval) and loghub (template grouping accuracy)."""
