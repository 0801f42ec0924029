"""Knowledge base of historical support answers: sources, FAISS index, SQL metadata, retrieval."""
