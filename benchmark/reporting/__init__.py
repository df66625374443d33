"""Results and reporting: the one reader of stored runs (results), statistics over per-query values
(intervals, paired tests), tables and their rendering, published reference numbers, significance marks,
plots and the regression check."""
