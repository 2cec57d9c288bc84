"""The technique packages, in the order the CLI lists them.

Each one has ``cli`` (its subcommands: ``register(sub)``) and ``jobs`` (its
background job kinds and the defaults it wants prepared).
"""

PACKAGES = (
    "core.perturbed_masking",
    "core.vae",
    "core.attribution",
    "core.optimizers",
    "core.decoding",
    "core.recompute",
    "core.bidirectional",
    "core.reading_comprehension",
)
