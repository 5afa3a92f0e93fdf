"""Usage ledger queries and the model price table (formatting lives in :mod:`assistant.views`)."""
