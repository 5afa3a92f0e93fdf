"""Usage ledger queries, the model price table and cost formatting."""
