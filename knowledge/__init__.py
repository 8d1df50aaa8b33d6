"""Incident memory: log templates, embeddings, the vector store, similar-incident search."""
