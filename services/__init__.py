"""Use cases as plain functions: each checks state, changes it in one transaction and writes
the audit log. Services never touch `request`; views never write to the database."""
