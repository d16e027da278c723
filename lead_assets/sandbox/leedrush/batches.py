"""Leedrush's batch family: upload a file, process it into a batch (charged one credit per row),
list and inspect batches, download a completed batch's QUALIFIED rows (A-L2..A-L5)."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from datetime import UTC, datetime

from starlette.datastructures import QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.leedrush.config import PLAN_NAMES, PLANS, RESULT_COLUMNS
from lead_assets.sandbox.leedrush.rows import Json, csv_row, detail, invalid, now_iso, result_for
from lead_assets.sandbox.leedrush.webhooks import WebhookEndpoints
from lead_assets.sandbox.world import h

_EMAIL_COLUMNS = ("email", "email_address", "work_email", "e-mail")
_SORT_KEYS = ("created_at", "status", "rows_total")


def parse_rows(text: str) -> list[Json]:
    """The data rows of an upload (a JSON list or a CSV): keys lower-cased and stripped, string
    values stripped, blank rows dropped. Raises ``json.JSONDecodeError`` or ``csv.Error``."""
    if text.lstrip().startswith("["):
        rows = [r for r in json.loads(text) if isinstance(r, dict)]
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    rows = [
        {
            (k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else v
            for k, v in r.items()
        }
        for r in rows
    ]
    # Data rows only: a CSV's blank trailing lines are not leads.
    return [r for r in rows if any(v not in (None, "") for v in r.values())]


def email_column(rows: list[Json]) -> str | None:
    """The column holding the email: a known name first, else the first containing "email"."""
    columns = set().union(*(r.keys() for r in rows)) if rows else set()
    return next(
        (c for c in _EMAIL_COLUMNS if c in columns),
        next((c for c in sorted(columns) if "email" in c), None),
    )


def page_params(params: QueryParams) -> tuple[int, int, str, str] | Response:
    """``(limit, offset, sort, order)`` of a batch listing, or its 422."""
    try:
        limit = int(params.get("limit", 20))
        offset = int(params.get("offset", 0))
    except ValueError:
        return invalid(["query", "limit"], "value is not a valid integer", "type_error.integer")
    if limit > 100 or limit < 1:
        return invalid(["query", "limit"], "ensure this value is less than or equal to 100")
    if offset < 0:
        return invalid(["query", "offset"], "ensure this value is greater than or equal to 0")
    sort, order = params.get("sort", "created_at"), params.get("order", "desc")
    if sort not in _SORT_KEYS or order not in ("asc", "desc"):
        return invalid(["query", "sort"], "unsupported sort or order")
    return limit, offset, sort, order


class BatchEndpoints(WebhookEndpoints):
    """``/api/upload``, ``/api/process``, ``/api/batches[/{id}]``, ``/api/download/{id}``."""

    async def upload(self, request: Request, user: str) -> Response:
        """Store a CSV or JSON file of leads under (user, filename); the latest upload wins."""
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return detail(400, "multipart field 'file' is required")
        raw = await file.read()
        name = file.filename or "upload.csv"
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return detail(422, "The file could not be decoded as UTF-8")
        try:
            rows = parse_rows(text)
        except (json.JSONDecodeError, csv.Error) as exc:
            return detail(422, f"The file could not be parsed: {exc}")
        column = email_column(rows)
        if column is None:
            return detail(422, "CSV has no recognised email column")
        for r in rows:
            r.setdefault("email", r.get(column))
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, ext) if dot else (name, "csv")
        stored = f"/uploads/{stem}_{datetime.now(UTC):%Y-%m-%d}_{uuid.uuid4().hex[:6]}.{ext}"
        entry = {"filename": name, "file_path": stored, "rows": rows, "user": user}
        # Keyed by (user, filename): the latest upload of a name wins (A-L5).
        self.uploads[(user, name)] = self.uploads[(user, stored)] = entry
        return JSONResponse(
            {"filename": name, "size": len(raw), "file_path": stored, "rows_detected": len(rows)}
        )

    async def process(self, request: Request, user: str) -> Response:
        """Start a batch of an uploaded file: plan limits, then one credit per row, then queued."""
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return detail(400, "Malformed JSON")
        if not isinstance(body, dict):
            return detail(400, "Malformed JSON")
        key = body.get("filename") or body.get("file_path")
        if not key or not isinstance(key, str):
            return detail(
                400, [{"loc": ["body", "filename"], "msg": "field required", "type": "value_error"}]
            )
        upload = self.uploads.get((user, key))
        if upload is None:
            return detail(404, f"Unknown file {key!r}; upload it first")
        n = len(upload["rows"])
        refused = self.plan_refusal(n)
        if refused is None:  # charged only once the plan's limits let the batch start
            refused = self.charge(upload, n)
        if refused is not None:
            return refused
        batch = self.new_batch(request, upload, n)
        return JSONResponse(
            {
                "batch_id": batch["batch_id"],
                "status": "queued",
                "filename": upload["filename"],
                "rows_total": n,
                "created_at": batch["created_at"],
                "credits_charged": n,
            }
        )

    def plan_refusal(self, n: int) -> Response | None:
        """The 422 (too many rows) or 429 (too many running batches) of the plan, if any."""
        _, concurrent, max_rows = PLANS[self.account.plan]
        if max_rows is not None and n > max_rows:
            return detail(
                422,
                f"The file has {n} rows; the {PLAN_NAMES[self.account.plan]} plan allows at most "
                f"{max_rows} rows per batch",
            )
        running = [
            b for b in self.batches.values() if self.status_of(b) in ("queued", "processing")
        ]
        if concurrent is not None and len(running) >= concurrent:
            first_end = min(b["created"] + b["queued_s"] + b["processing_s"] for b in running)
            wait = max(1, math.ceil(first_end - self.now()))
            return detail(
                429,
                f"{len(running)} batches are running; the plan allows {concurrent} at once",
                {"Retry-After": str(wait)},
            )
        return None

    def charge(self, upload: Json, n: int) -> Response | None:
        """Take ``n`` credits (or answer 402), firing credits.low / credits.exhausted when the
        balance crosses 10 % of the cycle's total or reaches zero."""
        account = self.account
        with account.lock:
            exhausted = account.credits_remaining < n
            before = after = account.credits_remaining
            if not exhausted:
                account.credits_remaining -= n
                account.charges.append(
                    {
                        "date": datetime.now(UTC).date().isoformat(),
                        "credits": n,
                        "filename": upload["filename"],
                    }
                )
                after = account.credits_remaining
        if exhausted:
            if account.credits_remaining == 0:  # "processing paused" only at a zero balance
                self.spawn(self.fire("credits.exhausted", None, self.credit_data()))
            return detail(402, "Insufficient credits")
        low = account.credits_total * 0.10
        if after == 0:
            self.spawn(self.fire("credits.exhausted", None, self.credit_data()))
        elif after < low <= before:
            self.spawn(self.fire("credits.low", None, self.credit_data()))
        self.stats["processed"] += 1
        return None

    def new_batch(self, request: Request, upload: Json, n: int) -> Json:
        """Queue a batch of the upload's rows (results decided now, shown when completed) and
        watch it to fire its event; it fails by header, by filename or at ``fail_rate``."""
        batch_id = f"batch_{uuid.uuid4().hex[:8]}"
        created = now_iso()
        forced = request.headers.get("x-sandbox-fail", "").strip().lower() in ("1", "true", "yes")
        share = self.config.fail_rate > 0 and h("fail", upload["filename"]) % 10_000 < (
            self.config.fail_rate * 10_000
        )
        batch = {
            "batch_id": batch_id,
            "status": "queued",
            "filename": upload["filename"],
            "rows_total": n,
            "created": self.now(),
            "seq": next(self.sequence),
            "created_at": created,
            "queued_s": 0.2 * self.scale(),
            "processing_s": (0.3 + n * 0.00005) * self.scale(),
            "fail": forced or share or "fail" in upload["filename"].lower(),
            "results": [result_for(r, self.config.status_variety) for r in upload["rows"]],
        }
        self.batches[batch_id] = batch
        self.spawn(self.watch(batch))
        return batch

    async def list_batches(self, request: Request, user: str) -> Response:
        """Every batch, sorted; a bare array or a paged envelope (A-L2, ``batches_shape``)."""
        params = request.query_params
        parsed = page_params(params)
        if isinstance(parsed, Response):
            return parsed
        limit, offset, sort, order = parsed
        ordered = sorted(self.batches.values(), key=lambda b: b["seq"])  # creation order on ties
        items = [self.public(b) for b in ordered]
        items.sort(key=lambda b: b[sort], reverse=order == "desc")
        shape = self.config.batches_shape
        paged = any(k in params for k in ("limit", "offset", "sort", "order"))
        if not (shape == "envelope" or (shape == "auto" and paged)):
            return JSONResponse(items)
        return JSONResponse(
            {
                "items": items[offset : offset + limit],
                "total": len(items),
                "limit": limit,
                "offset": offset,
                "has_more": offset + limit < len(items),
            }
        )

    async def download(self, request: Request, user: str) -> Response:
        """A completed batch's QUALIFIED rows, as JSON if asked for, else CSV (409 before)."""
        batch = self.batches.get(request.path_params["job_id"])
        if batch is None:
            return detail(404, "Batch not found")
        status = self.status_of(batch)
        if status != "completed":
            return detail(409, f"Batch is {status}; results are available once it is completed")
        qualified = [r for r in batch["results"] if r["status"] == "QUALIFIED"]
        accept = request.headers.get("accept", "")
        if "application/json" in accept and "text/csv" not in accept:
            return JSONResponse(qualified)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(RESULT_COLUMNS)
        writer.writerows(csv_row(r) for r in qualified)
        return Response(buf.getvalue(), media_type="text/csv")

    async def batch_detail(self, request: Request, user: str) -> Response:
        """Sandbox extra (A-L3 allows it); the client must not depend on it."""
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return detail(404, "Batch not found")
        return JSONResponse(self.public(batch))
