"""Languages and scripts: detect a document's language, analyse text into search terms per script."""
