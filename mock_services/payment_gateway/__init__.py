"""payment-gateway: idempotent disbursements and collections with a ledger."""
