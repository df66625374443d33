"""Running: configurations, the grid, one cell's training and evaluation (runner), parallel execution,
claims on cells, pre-flight checks, thread policy, and the result store (writing side)."""
