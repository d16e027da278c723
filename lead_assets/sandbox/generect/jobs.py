"""Generect's bulk jobs: submit up to 50 email finds or enrichments, then poll the job (the
second poll completes it, charges what was found and fires the job's webhook event)."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lead_assets.sandbox.generect.base import Json, Problem
from lead_assets.sandbox.generect.config import PRICES
from lead_assets.sandbox.generect.enrich import EnrichEndpoints
from lead_assets.sandbox.generect.matching import lead_row, person_item
from lead_assets.sandbox.generect.webhooks import WebhookEndpoints

#: Reserved (checked against the balance) per item at submission, by job kind.
_JOB_PRICES = {"email": "email_find", "company": "enrich_company", "lead": "enrich_lead"}
_JOB_LIFETIME_S = 86400


def job_meta(job_id: str, job: Json) -> Json:
    """The ``meta`` of a job's status answer (found/not_found once it is completed)."""
    done = job["status"] == "completed"
    meta: Json = {
        "job_id": job_id,
        "status": job["status"],
        "total": len(job["items"]),
        "processed": len(job["items"]) if done else 0,
        "amount_charged": job.get("amount", 0),
        "error": None,
    }
    if done:
        found = sum(
            1 for r in job["results"] if r.get("valid_email") or r.get("company") or r.get("lead")
        )
        meta.update(found=found, not_found=len(job["results"]) - found)
    return meta


class BulkJobEndpoints(EnrichEndpoints, WebhookEndpoints):
    """``.../bulk/`` submissions and their ``.../bulk/{job_id}/`` status polls."""

    def submit(self, kind: str, items: object, key: str) -> Response:
        """Queue a job of ``kind`` ("email", "company" or "lead") after a funds check on the
        whole list; nothing is charged until the job completes."""
        if not isinstance(items, list):
            raise Problem(400, {key: ["This field is required."]})
        if len(items) > 50:
            raise Problem(400, {key: ["Ensure this field has no more than 50 elements."]})
        self.funds(PRICES[_JOB_PRICES.get(kind, "enrich_lead")] * len(items))
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = {
            "kind": kind,
            "items": items,
            "status": "pending",
            "polls": 0,
            "created": time.time(),
        }
        meta = {
            "job_id": job_id,
            "status": "pending",
            "total": len(items),
            "processed": 0,
            "amount_charged": 0,
            "error": None,
        }
        return JSONResponse({"data": None, "meta": meta}, status_code=202)

    async def email_find_bulk(self, request: Request, body: Json, mode: str | None) -> Response:
        """Submit a bulk email find (``leads``)."""
        return self.submit("email", body.get("leads"), "leads")

    async def enrich_companies_bulk(
        self, request: Request, body: Json, mode: str | None
    ) -> Response:
        """Submit a bulk company enrich (``companies``, by domain)."""
        return self.submit("company", body.get("companies"), "companies")

    async def enrich_leads_bulk(self, request: Request, body: Json, mode: str | None) -> Response:
        """Submit a bulk lead enrich (``leads``, by id)."""
        return self.submit("lead", body.get("leads"), "leads")

    async def job_status(self, request: Request) -> Response:
        """Poll a job: pending -> processing -> completed, one step per poll. Routed without
        :meth:`endpoint` (no caps, faults or request count), and a 401 here is unwrapped."""
        try:
            self.auth(request)
        except Problem as p:
            return JSONResponse(
                {"status": "error", "status_code": 401, "detail": p.detail}, status_code=401
            )
        job_id = request.path_params["job_id"]
        job = self.jobs.get(job_id)
        if job is None or time.time() - job["created"] > _JOB_LIFETIME_S:
            return JSONResponse({"detail": "Job not found"}, status_code=404)
        job["polls"] += 1
        if job["status"] == "pending":
            job["status"] = "processing"
        elif job["status"] == "processing":
            await self.complete_job(job_id, job)
        data = job.get("results") if job["status"] == "completed" else None
        return JSONResponse({"data": data, "meta": job_meta(job_id, job)})

    def job_item(self, kind: str, item: Json) -> tuple[Json, float]:
        """One item's result and cost; a miss is free."""
        if kind == "email":
            try:
                data, cost = self.find_email(item)
            except Problem:
                data, cost = {"valid_email": None}, 0.0
            return {"input": item, **data}, cost
        if kind == "company":
            row = self.company_for_domain(item.get("domain", ""))
            return {"input": item, "company": row}, PRICES["enrich_company"] if row else 0.0
        # leads: found only when the id is in the world
        person = self.people_by_id.get(str(item.get("id") or item.get("lead_id")))
        lead = lead_row(person) if person else None
        return {"input": item, "lead": lead}, PRICES["enrich_lead"] if lead else 0.0

    async def complete_job(self, job_id: str, job: Json) -> None:
        """Answer every item, charge the found ones in one transaction, fire the event."""
        kind = job["kind"]
        results, total, bought = [], 0.0, []
        for item in job["items"]:
            result, cost = self.job_item(kind, item)
            results.append(result)
            total += cost
            if cost:
                bought.append(
                    person_item(item)
                    if kind == "email"
                    else str(item.get("domain") or item.get("id") or "").lower()
                )
        self.account.charge(f"bulk_{kind}", total, items=bought)
        job.update(status="completed", results=results, amount=round(total, 6))
        event = f"{'email.find' if kind == 'email' else 'enrich.' + kind}.bulk.completed"
        await self.deliver(event, job_id, job)
