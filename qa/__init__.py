"""Query time: question analysis, hybrid retrieval, answering with citations."""
