"""Retriever adapters for application frameworks (LangChain, LlamaIndex) over the HTTP service."""
