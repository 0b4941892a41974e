"""Pipeline stages: what each asset does, as plain functions over a workspace.

Dagster assets (in `assets/`) call these and turn their reports into metadata; nothing here
knows about Dagster.
"""
