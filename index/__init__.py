"""Build time: reading, cleaning, chunking, embedding and indexing articles."""
