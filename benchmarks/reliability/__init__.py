"""The parts of ``benchmarks/bench_reliability.py``: each module has ``add_arguments(group)`` and
``run(args) -> dict`` (its numbers, with ``target_met``)."""
