"""Recompute (rematerialization, gradient checkpointing): how much batch a memory budget holds with each
strategy and what it costs in step time, measured on this machine (Chen et al. 2016; kexue.fm, 2020-04-29)."""
