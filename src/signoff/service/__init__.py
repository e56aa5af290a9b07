"""Use cases: one function per command, each with exactly one `with uow:` and one commit;
read-side queries. No SQLAlchemy, no HTTP here: the unit of work and the query ports are
protocols (`ports.py`) that `signoff.store` implements."""
