"""The workflow engine: declarative definitions in `workflows/definitions/*.yaml`."""
