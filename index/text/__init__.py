"""Text: reading source files (per format), cleaning scraped pages (navigation, headline lists,
ads, footers, inline pinyin, mojibake), metadata, script folding and chunking.

Pure text in, text out. Must not import ``index.embed``, ``index.store`` or ``index.build``.
"""
