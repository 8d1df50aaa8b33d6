"""From an incident to a diagnosis: the bounded investigation (metrics, logs, memory), the
signal catalog, hypotheses scored by their evidence, what changed, people's corrections, and
verification after a fix."""
