"""credit-bureau: deterministic credit reports per user id."""
