"""Pages: where each stored character sits on its page, and page images with a quote highlighted."""
