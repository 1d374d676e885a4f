"""The admin; each module registers its own models, so importing them here registers them."""

from . import commitments

__all__ = ["commitments"]
