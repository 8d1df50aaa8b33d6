"""The generalisation protocol (issue 13) and its evaluations: nested validation by the groups a
user's data differs by (NAB category, loghub system, Nezha fault type and hour).
``benchmarks/bench_generalization.py`` runs them and prints dev score and outer estimate side by
side."""
