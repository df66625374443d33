"""Benchmark scripts that print speed and budget figures (never timed tests):
``python -m xbench.perf`` (the evaluator), ``xbench.perf.budget``, ``.runner``, ``.threads``, ``.gpu``."""
