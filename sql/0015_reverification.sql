-- Re-verification of delivered leads (issue 13): the rows of a `reverify` batch, each a lead
-- that was delivered and whose answers passed their TTL, kept verbatim like an uploaded file's
-- rows, with the batch and row it was delivered in.
CREATE TABLE reverify_rows (
    batch_key           TEXT NOT NULL,
    line_no             INTEGER NOT NULL,
    email               TEXT NOT NULL,            -- the delivered address, lower case
    delivered_batch_key TEXT NOT NULL,
    delivered_row_id    TEXT NOT NULL,
    raw_json            TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, line_no)
);
CREATE INDEX reverify_rows_email ON reverify_rows (email);
