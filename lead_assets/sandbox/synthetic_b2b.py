"""A labeled synthetic B2B lead generator for resolution quality benchmarks and tests.

Every row carries ``entity_id`` (the true person). About a quarter of the people appear more than
once, with the changes real exports introduce: nicknames, typos, swapped first/last names, email
aliases and case, phone formats, legal-suffix and domain variants, missing fields. Names are drawn
with a skewed frequency, so namesakes (the same name at another company) appear as they do in real
data: their number grows with the square of the data while true duplicates grow linearly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_assets.core.matching.nicknames import _GROUPS
from lead_assets.sandbox.world import FIRST, LAST, SUFFIXES, WORDS

_NICK = {canonical: nicks.split() for canonical, nicks in _GROUPS.items()}
_LEGAL = ["Inc", "Inc.", "LLC", "Ltd", "GmbH", "Corp.", ""]


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 2))
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def generate(n_rows: int, *, seed: int = 7, dup_share: float = 0.25) -> pd.DataFrame:
    """``n_rows`` leads with ``entity_id`` labels (columns as standardized_leads needs)."""
    rng = np.random.default_rng(seed)
    n_entities = int(n_rows / (1 + dup_share * 2))
    n_companies = max(50, n_entities // 8)
    companies = [
        f"{WORDS[i % len(WORDS)]} {SUFFIXES[(i // len(WORDS)) % len(SUFFIXES)]} {i // (len(WORDS) * len(SUFFIXES)) or ''}".strip()
        for i in range(n_companies)
    ]
    domains = [c.lower().replace(" ", "") + ".com" for c in companies]
    # Zipf-like name frequencies: a few very common names, a long tail.
    first_p = 1 / np.arange(1, len(FIRST) + 1) ** 0.8
    last_p = 1 / np.arange(1, len(LAST) + 1) ** 0.8
    first = rng.choice(len(FIRST), n_entities, p=first_p / first_p.sum())
    last = rng.choice(len(LAST), n_entities, p=last_p / last_p.sum())
    company = rng.integers(0, n_companies, n_entities)
    rows: list[dict] = []
    for e in range(n_entities):
        f, sur, c = FIRST[first[e]], LAST[last[e]], company[e]
        phone = f"+1415{int(rng.integers(2000000, 9999999))}" if rng.random() < 0.6 else None
        email = f"{f.lower()}.{sur.lower()}{e % 97 if rng.random() < 0.2 else ''}@{domains[c]}"
        base = {
            "entity_id": e,
            "first_name": f,
            "last_name": sur,
            "email": email,
            "phone_e164": phone,
            "company_name": companies[c],
            "domain": domains[c],
        }
        rows.append(base)
        if rng.random() < dup_share:
            for _ in range(int(rng.integers(1, 4))):
                d = dict(base)
                kind = rng.random()
                if kind < 0.2 and f.lower() in _NICK:
                    d["first_name"] = rng.choice(_NICK[f.lower()]).title()
                elif kind < 0.4:
                    d["last_name"] = _typo(rng, sur)
                elif kind < 0.5:
                    d["first_name"], d["last_name"] = sur, f
                elif kind < 0.65:
                    d["email"] = email.split("@")[0] + "+crm@" + email.split("@")[1]
                if rng.random() < 0.3:
                    d["email"] = None  # missing email: must match on name + company
                if rng.random() < 0.3:
                    d["company_name"] = f"{companies[c]} {rng.choice(_LEGAL)}".strip()
                if rng.random() < 0.1:
                    d["domain"] = None
                rows.append(d)
    frame = pd.DataFrame(rows[:n_rows])
    from lead_assets.core.normalize.companies import normalize_company
    from lead_assets.core.normalize.emails import match_key

    frame["email_match_key"] = frame["email"].map(
        lambda e: match_key(e.lower()) if isinstance(e, str) else None
    )
    frame["company_key"] = frame["company_name"].map(lambda c: normalize_company(c)[1])
    frame["key"] = [f"r{i}" for i in range(len(frame))]
    return frame


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against labels (computed from counts)."""

    def pairs(counts: pd.Series) -> int:
        return int((counts * (counts - 1) // 2).sum())

    both = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    tp = pairs(both.groupby(["p", "t"]).size())
    pred_pairs = pairs(both.groupby("p").size())
    true_pairs = pairs(both.groupby("t").size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
    }
