"""Decoding that never stops (Welleck et al. 2020; kexue.fm 7500): why incomplete decoders can run forever, and
the fixes (consistent top-k / nucleus, a self-terminating output layer).

Work in progress (issue 14): the consistent processors are here; the page, the models, the CLI and the jobs
come next, and the package joins ``core.lab.techniques.PACKAGES`` when it has its ``cli`` and ``jobs``.
"""
