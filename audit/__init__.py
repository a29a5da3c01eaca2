"""forgetctl's audit trail (import name forgetctl_audit): DSSE-signed, hash-chained records in
SQLite, a Merkle tree over them with signed tree heads, and crypto-shreddable evidence."""
