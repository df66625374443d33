"""Evaluating: retrieval metrics (Hamming and real-valued), code health, selection quality,
and the realised statistics of noise models."""
