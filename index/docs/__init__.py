"""Documents: PDF, Word and image files -> clean text with page boundaries and metadata.

``index.docs.extract.extract_document`` is the one entry point (``index.text.sources`` calls it
for ``.pdf``, ``.docx`` and image files).  Each format's reader turns its file into positioned
`Line`s or paragraphs (`index.docs.model`); `index.docs.layout` puts positioned lines into reading
order and paragraphs, and removes running headers, footers and page numbers; OCR
(`index.docs.ocr`) reads pages that have no text layer.

Text in, text out, like ``index.text``: must not import ``index.embed``, ``index.store`` or
``index.build``.
"""
