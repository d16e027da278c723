"""An independent labeled B2B lead generator, for judging the matcher on data it was not tuned on.

    .venv/bin/python benchmarks/labeled_b2b.py 100000 -o leads.csv --seed 3

Independence is the point: nothing here imports ``lead_assets`` (no nickname table, no legal
suffixes, no free-mail list, no sandbox vocabulary). Its sources are its own:

- people's names: the ``faker`` person providers of several locales (US, GB, CA, DE, FR), drawn
  with each locale's own frequency weights where faker has them;
- nicknames: the ``nicknames`` PyPI package (a hand-curated public data set);
- companies: ``faker`` company names, with a legal-suffix vocabulary written here;
- personal mailboxes: a free-mail list written here;
- phones: national numbering formats written here (NANP, UK, Germany, France).

Every row is a *raw* lead as a file drop would carry it (first_name, last_name, email, phone,
title, company_name, domain, city, country) plus ``entity_id``, the true person. About a quarter
of the people appear more than once, and each repeat combines, independently, the changes real
exports introduce (rates in ``RATES``):

- a personal free-mail address instead of (or beside) the work one, with the local-part styles
  people use (``lisaramirez``, ``lisa.ramirez84``, ``lramirez``);
- the same phone in another format (``+1 304 777 0795``, ``304-777-0795``, ``(304) 777-0795``,
  ``0049 30 1234567``, ``030 1234567``);
- a nickname (``Deborah``/``Deb``) or a typo (``William``/``Wlliam``) in the first name, a typo in
  the surname, first and last name swapped;
- a legal-suffix variant of the company name (``Acme`` / ``Acme, Inc.`` / ``Acme LLC``), a
  missing domain, a missing company, another title, a missing country;
- no email at all.

Hard negatives are generated on purpose: namesakes (the same name) at other companies, which
skewed name frequencies already produce and a share of copied names adds, and colleagues of the
same name at the *same* company with different work mailboxes (two people, not one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

#: Probabilities of each change on a repeated record (applied independently).
RATES = {
    "personal_mailbox": 0.30,  # the repeat carries a free-mail address instead of the work one
    "no_email": 0.20,
    "email_case": 0.10,
    "phone_reformat": 0.60,  # given the person has a phone: another written format
    "phone_missing": 0.25,
    "first_nickname": 0.15,
    "first_typo": 0.08,
    "last_typo": 0.06,
    "swapped_names": 0.02,
    "suffix_variant": 0.35,
    "company_missing": 0.04,
    "domain_missing": 0.40,
    "title_change": 0.30,
    "country_missing": 0.15,
}
#: Share of people with repeats, and how many repeats (1 to 3).
DUP_SHARE = 0.25
#: Share of people whose name is copied from another person (a namesake), and of those a share
#: at the same company (two colleagues of one name, with different mailboxes).
NAMESAKE_SHARE = 0.03
SAME_COMPANY_NAMESAKE = 0.1

FREE_MAIL = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "aol.com",
    "icloud.com",
    "protonmail.com",
    "gmx.de",
    "web.de",
    "orange.fr",
    "yahoo.co.uk",
    "live.com",
)
LEGAL_SUFFIXES = (
    "Inc",
    "Inc.",
    ", Inc.",
    "LLC",
    "L.L.C.",
    "Ltd",
    "Limited",
    "Corp",
    "Corporation",
    "Co.",
    "GmbH",
    "AG",
    "S.A.",
    "PLC",
)
# Locale -> (country as files write it, faker locale, share of people).
LOCALES = (
    ("US", "United States", "en_US", 0.62),
    ("CA", "Canada", "en_US", 0.08),  # faker has no en_CA person names
    ("GB", "United Kingdom", "en_GB", 0.12),
    ("DE", "Germany", "de_DE", 0.10),
    ("FR", "France", "fr_FR", 0.08),
)
NANP_AREAS = {
    "US": ("201", "212", "304", "312", "415", "512", "617", "702", "713", "818", "917", "206"),
    "CA": ("416", "604", "514", "403", "613", "905"),
}
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def _names(locale: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider

    def weighted(table: object) -> tuple[list[str], np.ndarray]:
        if isinstance(table, dict):
            items = list(table.items())
            names = [k for k, _ in items]
            weights = np.array([float(v) for _, v in items])
        else:
            names = list(dict.fromkeys(table))
            # No published weights: a Zipf-like skew, as real name frequencies are.
            weights = 1 / np.arange(1, len(names) + 1) ** 0.9
        return names, weights / weights.sum()

    firsts = getattr(provider, "first_names", None) or (
        list(provider.first_names_male) + list(provider.first_names_female)
    )
    f, fw = weighted(firsts)
    surnames, lw = weighted(provider.last_names)
    return f, fw, surnames, lw


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _typo(rng: np.random.Generator, text: str) -> str:
    """One keyboard slip: a dropped, doubled, swapped or replaced letter (not the first)."""
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + KEYBOARD[int(rng.integers(0, len(KEYBOARD)))] + text[i + 1 :]


def _phone_digits(rng: np.random.Generator, country: str) -> str:
    """A national significant number that follows the country's numbering plan."""
    if country in NANP_AREAS:
        area = NANP_AREAS[country][int(rng.integers(0, len(NANP_AREAS[country])))]
        return f"{area}{int(rng.integers(2, 10))}{int(rng.integers(10, 100)):02d}{int(rng.integers(0, 10000)):04d}"
    if country == "GB":
        return f"7{int(rng.integers(100, 1000))}{int(rng.integers(0, 1000000)):06d}"  # mobile
    if country == "DE":
        return f"30{int(rng.integers(1000000, 10000000))}"  # Berlin, 7-digit subscriber
    return f"{int(rng.integers(1, 6))}{int(rng.integers(10000000, 100000000))}"  # France


CODES = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33"}


def _format_phone(rng: np.random.Generator, nsn: str, country: str) -> str:
    code = CODES[country]
    if code == "1":
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        styles = (
            f"+1 {a} {b} {c}",
            f"{a}-{b}-{c}",
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"1-{a}-{b}-{c}",
            f"+1{nsn}",
        )
    elif country == "GB":
        styles = (f"+44 {nsn[:4]} {nsn[4:]}", f"0{nsn[:4]} {nsn[4:]}", f"0044{nsn}", f"+44{nsn}")
    elif country == "DE":
        styles = (f"+49 {nsn[:2]} {nsn[2:]}", f"0{nsn[:2]} {nsn[2:]}", f"0049 {nsn}", f"+49{nsn}")
    else:
        pairs = " ".join(nsn[i : i + 2] for i in range(1, len(nsn), 2))
        styles = (f"+33 {nsn[0]} {pairs}", f"0{nsn[0]} {pairs}", f"+33{nsn}", f"0033 {nsn}")
    return styles[int(rng.integers(0, len(styles)))]


def _work_local(style: int, first: str, last: str) -> str:
    f, s = _ascii(first) or "x", _ascii(last) or "x"
    return (f"{f}.{s}", f"{f[0]}{s}", f"{f}{s[0]}", f"{f}", f"{f}_{s}")[style]


def _personal_local(rng: np.random.Generator, first: str, last: str) -> str:
    f, s = _ascii(first) or "x", _ascii(last) or "x"
    digits = str(int(rng.integers(1, 99))) if rng.random() < 0.5 else ""
    styles = (f"{f}{s}", f"{f}.{s}", f"{f[0]}{s}", f"{f}_{s}", f"{s}.{f}")
    return styles[int(rng.integers(0, len(styles)))] + digits


def generate(n_rows: int, *, seed: int = 1) -> pd.DataFrame:
    """``n_rows`` raw leads with ``entity_id`` labels (the columns of a lead file)."""
    from faker import Faker
    from nicknames import NickNamer

    rng = np.random.default_rng(seed)
    n_people = int(n_rows / (1 + DUP_SHARE * 2) * 1.02) + 1  # a little over: cut to n_rows
    n_companies = max(100, n_people // 6)
    fake = Faker(["en_US"])
    fake.seed_instance(seed)
    seen: set[str] = set()
    companies: list[str] = []
    while len(companies) < n_companies:
        name = fake.company()
        # faker's own formats carry a suffix ("Smith LLC"); strip it: suffix variants are ours.
        for suffix in (" Inc", " LLC", " Group", " PLC", " Ltd", " and Sons"):
            name = name.removesuffix(suffix)
        if name in seen:
            name = f"{name} {fake.last_name()}"
            if name in seen:
                continue
        seen.add(name)
        companies.append(name)
    domains = [_ascii(c)[:24] + (".com" if i % 5 else ".io") for i, c in enumerate(companies)]
    email_style = rng.integers(0, 5, n_companies)
    company_country = rng.choice(len(LOCALES), n_companies, p=[loc[3] for loc in LOCALES])
    pools = {loc[0]: _names(loc[2]) for loc in LOCALES}
    # One weighted draw per locale for everybody (a draw per person would be quadratic).
    drawn = {
        iso: (rng.choice(len(f), n_people, p=fw), rng.choice(len(s), n_people, p=sw))
        for iso, (f, fw, s, sw) in pools.items()
    }
    cities = {}
    for iso, _country, locale, _share in LOCALES:
        f = Faker([locale])
        f.seed_instance(seed)
        cities[iso] = [f.city() for _ in range(40)]
    jobs = [Faker(["en_US"]).job() for _ in range(300)]
    nick = NickNamer()
    nick_cache: dict[str, list[str]] = {}

    def nickname(first: str) -> str | None:
        key = first.lower()
        if key not in nick_cache:
            nick_cache[key] = sorted(n for n in nick.nicknames_of(key) if len(n) > 1)
        options = nick_cache[key]
        return options[int(rng.integers(0, len(options)))].title() if options else None

    company = rng.integers(0, n_companies, n_people)
    rows: list[dict] = []
    people: list[tuple[str, str]] = []
    used_locals: set[tuple[int, str]] = set()
    for e in range(n_people):
        c = int(company[e])
        iso, country_name = LOCALES[company_country[c]][:2]
        fnames, _fw, lnames, _lw = pools[iso]
        if people and rng.random() < NAMESAKE_SHARE:
            first, last = people[int(rng.integers(0, len(people)))]
            if rng.random() < SAME_COMPANY_NAMESAKE and rows:
                c = int(company[int(rng.integers(0, e))])  # a colleague of the same name
                iso, country_name = LOCALES[company_country[c]][:2]
        else:
            first = fnames[int(drawn[iso][0][e])]
            last = lnames[int(drawn[iso][1][e])]
        people.append((first, last))
        local = _work_local(int(email_style[c]), first, last)
        n = 2
        while (c, local) in used_locals:  # a second Lisa Ramirez gets lisa.ramirez2@
            local = f"{_work_local(int(email_style[c]), first, last)}{n}"
            n += 1
        used_locals.add((c, local))
        nsn = _phone_digits(rng, iso) if rng.random() < 0.7 else None
        base = {
            "entity_id": e,
            "first_name": first,
            "last_name": last,
            "email": f"{local}@{domains[c]}",
            "phone": _format_phone(rng, nsn, iso) if nsn else None,
            "title": jobs[int(rng.integers(0, len(jobs)))],
            "company_name": companies[c],
            "domain": domains[c] if rng.random() < 0.7 else None,
            "city": cities[iso][int(rng.integers(0, len(cities[iso])))],
            "country": country_name,
        }
        rows.append(base)
        if rng.random() >= DUP_SHARE:
            continue
        personal = (
            f"{_personal_local(rng, first, last)}@{FREE_MAIL[int(rng.integers(0, len(FREE_MAIL)))]}"
        )
        for _ in range(int(rng.integers(1, 4))):
            d = dict(base)
            r = rng.random(len(RATES))
            p = dict(zip(RATES, r < np.array(list(RATES.values())), strict=True))
            if p["first_nickname"]:
                d["first_name"] = nickname(first) or d["first_name"]
            elif p["first_typo"]:
                d["first_name"] = _typo(rng, first)
            if p["last_typo"]:
                d["last_name"] = _typo(rng, last)
            if p["swapped_names"]:
                d["first_name"], d["last_name"] = d["last_name"], d["first_name"]
            if p["no_email"]:
                d["email"] = None
            elif p["personal_mailbox"]:
                d["email"] = personal
            elif p["email_case"]:
                d["email"] = d["email"].title()
            if nsn and p["phone_missing"]:
                d["phone"] = None
            elif nsn and p["phone_reformat"]:
                d["phone"] = _format_phone(rng, nsn, iso)
            if p["company_missing"]:
                d["company_name"] = None
            elif p["suffix_variant"]:
                suffix = LEGAL_SUFFIXES[int(rng.integers(0, len(LEGAL_SUFFIXES)))]
                joiner = "" if suffix.startswith(",") else " "
                d["company_name"] = f"{companies[c]}{joiner}{suffix}"
            if p["domain_missing"]:
                d["domain"] = None
            elif d["domain"] is None and rng.random() < 0.5:
                d["domain"] = f"https://www.{domains[c]}/"
            if p["title_change"]:
                d["title"] = jobs[int(rng.integers(0, len(jobs)))]
            if p["country_missing"] and (iso == "US" or (d["phone"] or "").startswith("+")):
                # Files drop the country mostly where the phone carries it, or for the home market.
                d["country"] = None
            rows.append(d)
    frame = pd.DataFrame(rows[:n_rows])
    # Shuffle: duplicates do not sit next to each other in real files.
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against labels; rows without a
    predicted cluster (rejected) count as singletons. Written here, not imported, so the
    evaluation does not depend on the code it evaluates."""
    pred = predicted.astype(object).where(predicted.notna(), None)
    filled = [p if p is not None else f"__single{i}" for i, p in enumerate(pred.tolist())]

    def pairs(counts: pd.Series) -> int:
        return int((counts * (counts - 1) // 2).sum())

    both = pd.DataFrame({"p": filled, "t": truth.to_numpy()})
    tp = pairs(both.groupby(["p", "t"]).size())
    pred_pairs = pairs(both.groupby("p").size())
    true_pairs = pairs(both.groupby("t").size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true_pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.rows, seed=args.seed).to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
