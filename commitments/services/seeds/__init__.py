"""Load the seed files (the loader is :mod:`commitments.services.seeds.loader`)."""
