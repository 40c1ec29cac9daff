"""Documents: one content model per submission (documents.content), rendered as an
accessible PDF with WeasyPrint (documents.pdf) and as DOCX with python-docx
(documents.docx); made off the request path and stored once per revision
(documents.store)."""
