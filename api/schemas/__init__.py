"""Request and response models, one module per resource, kept apart from the catalog's rows:
times are ISO 8601 UTC, names are the API's own (``tenant``, ``asset``), and internal columns
(policy, agent, key hashes) stay out."""
