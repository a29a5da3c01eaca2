"""Schema of the audit database: numbered, append-only migrations. Never edit one; add the next."""

from sqlite_utils import Migrations

migrations = Migrations("forgetctl-audit")


@migrations()
def m001_log(db):
    # The signed log. seq is the primary key, so two writers can never both append seq N.
    db["records"].create(
        {
            "seq": int, "kind": str, "request_id": str, "created": str,
            "envelope": str,  # DSSE envelope JSON; its payload is the canonical record
            "record_hash": str,  # SHA-256 of the canonical envelope bytes; the next record's "prev"
        },
        pk="seq",
    )
    db["records"].create_index(["request_id"])
    # Evidence with personal data, AES-GCM encrypted under the request's data key.
    db["evidence"].create(
        {"id": str, "request_id": str, "seq": int, "nonce": bytes, "ciphertext": bytes}, pk="id",
    )
    db["evidence"].create_index(["request_id"])
    # Per-request data keys, wrapped by the master key. Shredding deletes the wrapped key.
    db["data_keys"].create(
        {"request_id": str, "nonce": bytes, "wrapped_key": bytes, "shredded": str}, pk="request_id",
    )
    db["tree_heads"].create({"size": int, "root": str, "created": str, "envelope": str}, pk="size")
