"""Lookahead and LazyOptimizer (Zhang et al. 2019; kexue.fm, 2019-07-30): Keras wrappers, test functions, runs."""
