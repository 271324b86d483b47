"""Search: find the passages that can answer a question.

The second stage. Chunks written by ingest live in the Chroma collection (``store``, with the
client and filters in ``chroma``: the only two modules that import chromadb), with their vectors from the bundled embedding model
(``embeddings``) and a BM25 index beside them (``lexical``). ``retrieve.Retriever`` asks both
for candidates and orders them with the news ranking (``ranking``: BM25, dense, headline match,
recency from the day the question is asked); ``stories`` folds copies of one wire story from
several outlets into one result; ``timeline`` turns a search into dated, quoted events.

Imports only from ``assistant.ingest`` and the ground floor (``text``, ``dates``, ``models``,
``config``, ``errors``, ``resources``); never from answering or the service.
"""
