"""The form engine: YAML definitions → validated specs → WTForms classes at runtime.

- `schema`: load and validate a definition file (errors name file, field and problem)
- `spec`: the runtime view of a published definition (pages, fields, texts per language)
- `fields`: one registry of field types: definition checks, WTForms field, storage, display
- `conditions`: `show_if` evaluation, shared by validation, storage and the browser script
- `build`: the WTForms form class for one page in one language
"""
