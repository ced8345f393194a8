"""lending: the borrower-facing service and its resilience mechanisms."""
