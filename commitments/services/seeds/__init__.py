"""Load the seed files: validate them against ``seeds/schema.json``, then upsert them by key.

A seed directory holds YAML files (any depth); each file may list ``parties`` and
``sources`` and may hold one ``agreement`` with its ``commitments``. Records refer to each
other by key. Loading is all or nothing: every file is validated against the schema first,
then every record is written in one transaction through the domain services, and the first
problem (an unknown key, a model rule, an anchor cycle) rolls everything back. A record equal
to what is stored is not saved, so a second load writes nothing and adds no history.

Citations are matched by their target, source and quote; relations by both ends and kind.
Seeds add and update them but never delete any: people add evidence citations and relations
of their own. Statuses and owners are not seeded; they belong to the people using the tracker.

The modules: ``problems`` (what a failed load reports), ``schema`` (where the seeds and their
JSON Schema live, and schema errors as problems), ``reader`` (files to validated records) and
``loader`` (:func:`~commitments.services.seeds.loader.seeds_load`, which writes the records).
"""
