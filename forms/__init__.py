"""The form engine: YAML definitions → validated specs → WTForms classes at runtime.

- `schema`: load and validate a definition file (errors name file, field and problem)
- `spec`: the runtime view of a published definition (pages, fields, texts per language)
- `field_types`: one class per field type (settings schema, value checks, storage, display,
  search strings, template macro, browser value type); `fields` re-exports it
- `conditions`: `show_if` evaluation, shared by validation, storage and the browser script
- `build`: the WTForms form class for one page in one language, bound to the form data
  and languages the web layer passes
"""
