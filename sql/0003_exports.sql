-- Migration 0003: the files each batch's export wrote (CSV, Parquet), for summaries and audits.
CREATE TABLE batch_exports (
    batch_key           TEXT NOT NULL,
    kind                TEXT NOT NULL,        -- csv | parquet | summary
    path                TEXT NOT NULL,
    rows_written        INTEGER NOT NULL,
    written_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, kind)
);
