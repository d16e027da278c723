"""Regenerate the messy sample exports in this folder (deterministic: fixed seed).

    .venv/bin/python samples/make_samples.py

Four formats a revenue team really sends: a HubSpot CSV (UTF-8 with BOM), a Salesforce report
(cp1252, semicolons), a Sales Navigator scrape (JSON Lines), an Apollo export (gzipped JSON), and
one file that is not a lead list at all. The same people appear across files with the usual
differences (nicknames, case, Gmail dots and plus tags, phone formats, legal suffixes), and a few
rows are broken on purpose.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Steven",
    "Sandra",
    "José",
    "Zoë",
    "Renée",
    "Jürgen",
    "Søren",
    "Siobhán",
    "François",
    "Mónica",
    "Łukasz",
    "Chloé",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "O'Brien",
    "McDonald",
    "van der Berg",
    "Müller",
    "García-López",
    "Nguyen",
    "Kowalski",
    "Dubois",
    "Rossi",
    "Schmidt",
]
NICK = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Richard": "Rick",
    "Michael": "Mike",
    "Jennifer": "Jen",
    "Thomas": "Tom",
    "Joseph": "Joe",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Margaret": "Peggy",
}
COMPANIES = [
    (
        "Acme Robotics",
        "Inc.",
        "acmerobotics.com",
        "US",
        "San Francisco",
        "CA",
        "51-200",
        "Robotics Engineering",
    ),
    ("Northwind Traders", "LLC", "northwind.io", "US", "Seattle", "WA", "201-500", "Wholesale"),
    (
        "Globex",
        "Corporation",
        "globex.com",
        "US",
        "Austin",
        "TX",
        "1001-5000",
        "Software Development",
    ),
    (
        "Initech",
        "Inc",
        "initech.com",
        "US",
        "New York",
        "NY",
        "501-1000",
        "IT Services and IT Consulting",
    ),
    (
        "Umbrella Health",
        "Ltd",
        "umbrellahealth.co.uk",
        "GB",
        "London",
        "",
        "11-50",
        "Hospitals and Health Care",
    ),
    (
        "Stark Analytics",
        "GmbH",
        "stark-analytics.de",
        "DE",
        "Berlin",
        "",
        "51-200",
        "Software Development",
    ),
    (
        "Wayne Logistics",
        "S.A.",
        "waynelogistics.fr",
        "FR",
        "Paris",
        "",
        "5001-10000",
        "Transportation, Logistics, Supply Chain and Storage",
    ),
    ("Hooli", "Inc.", "hooli.com", "US", "Palo Alto", "CA", "10 000+", "Software Development"),
    (
        "Vandelay Industries",
        "Inc",
        "vandelay.com",
        "US",
        "Chicago",
        "IL",
        "11-50",
        "Import and Export",
    ),
    (
        "Soylent Foods",
        "B.V.",
        "soylent.nl",
        "NL",
        "Amsterdam",
        "",
        "201-500",
        "Food and Beverage Manufacturing",
    ),
    (
        "Cyberdyne Systems",
        "Corp.",
        "cyberdyne.ai",
        "US",
        "Boston",
        "MA",
        "1001-5000",
        "Software Development",
    ),
    (
        "Tyrell Biotech",
        "AG",
        "tyrell-bio.ch",
        "CH",
        "Zurich",
        "",
        "51-200",
        "Biotechnology Research",
    ),
]
TITLES = [
    "CEO",
    "Co-Founder & CEO",
    "VP of Sales",
    "Sr. Account Executive",
    "Head of Marketing",
    "Marketing Mgr",
    "Director of Engineering",
    "Software Engineer",
    "CFO",
    "Chief Revenue Officer",
    "SDR",
    "Sales Development Rep",
    "Operations Manager",
    "Product Manager",
    "HR Business Partner",
    "Intern",
    "Founder",
    "Managing Director",
]
COUNTRY_NAMES = {
    "US": ["United States", "USA", "US", "U.S.A."],
    "GB": ["United Kingdom", "UK"],
    "DE": ["Germany", "Deutschland"],
    "FR": ["France"],
    "NL": ["Netherlands", "The Netherlands"],
    "CH": ["Switzerland"],
}
DIAL = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31", "CH": "+41"}


def phone(rng: random.Random, cc: str) -> str:
    if cc == "US":
        a, b = (
            rng.choice([212, 415, 646, 312, 617, 512, 206, 650, 305, 404, 713, 303]),
            rng.randint(200, 999),
        )
        c = rng.randint(1000, 9999)
        return rng.choice(
            [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"1{a}{b}{c}"]
        )
    digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
    national = {
        "GB": "20 " + digits[:4] + " " + digits[4:8],
        "DE": "30 " + digits[:8],
        "FR": "1 " + digits[:8],
        "NL": "20 " + digits[:7],
        "CH": "44 " + digits[:7],
    }[cc]
    return rng.choice([f"{DIAL[cc]} {national}", f"00{DIAL[cc][1:]} {national}", f"0{national}"])


def people(rng: random.Random, n: int) -> list[dict]:
    out = []
    for i in range(n):
        company = COMPANIES[i % len(COMPANIES)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first[0].lower()}{last.lower()}".replace("'", "").replace(" ", "")
        local = local.encode("ascii", "ignore").decode() or f"lead{i}"
        out.append(
            {
                "first": first,
                "last": last,
                "company": company,
                "title": rng.choice(TITLES),
                "email": f"{local}@{company[2]}",
                "phone": phone(rng, company[3]),
            }
        )
    return out


def hubspot(rng: random.Random, crowd: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Company Name",
            "Website URL",
            "Job Title",
            "City",
            "State/Region",
            "Country/Region",
            "Number of Employees",
            "Industry",
        ]
    )
    for i, p in enumerate(crowd[:140]):
        c = p["company"]
        email = p["email"]
        if i % 9 == 0:
            email = email.upper()
        if i % 13 == 0:
            email = f"{p['first'].lower()}.{p['last'].lower()}+crm@gmail.com".replace(
                " ", ""
            ).replace("'", "")
        website = rng.choice(
            [f"https://www.{c[2]}/", c[2], f"http://{c[2]}/about?ref=crm", f"www.{c[2]}"]
        )
        first = p["first"].upper() if i % 7 == 0 else p["first"]
        w.writerow(
            [
                first,
                p["last"],
                email,
                p["phone"] if i % 5 else "",
                f"{c[0]} {c[1]}",
                website,
                p["title"],
                c[4],
                c[5],
                rng.choice(COUNTRY_NAMES[c[3]]),
                rng.choice([c[6], c[6].replace(" ", ""), ""]),
                c[7],
            ]
        )
    w.writerow(
        ["", "", "", "", "", "", "", "", "", "", "", ""]
    )  # an empty row: rejected, not dropped
    w.writerow(
        ["Info", "", "info@northwind.io", "", "Northwind Traders", "", "", "", "", "", "", ""]
    )  # role account
    w.writerow(
        ["Tempo", "User", "tempo@mailinator.com", "", "", "", "", "", "", "", "", ""]
    )  # disposable
    (HERE / "hubspot_contacts.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def salesforce(rng: random.Random, crowd: list[dict]) -> None:
    lines = [
        '"First Name";"Last Name";"Title";"Account Name";"Email";"Phone";"Mailing City";"Mailing Country";"Employees"'
    ]
    for i, p in enumerate(crowd[100:190]):
        c = p["company"]
        first = NICK.get(p["first"], p["first"]) if i % 3 == 0 else p["first"]
        name = f'"{c[0]}, {c[1]}"' if i % 4 == 0 else f'"{c[0]}"'
        lines.append(
            f'"{first}";"{p["last"]}";"{p["title"]}";{name};"{p["email"]}";"{p["phone"]}";"{c[4]}";"{rng.choice(COUNTRY_NAMES[c[3]])}";"{c[6]}"'
        )
    lines.append(
        '"Broken";"Row";"CEO";"Acme Robotics";"broken@acmerobotics.com"'
    )  # too few fields: malformed
    lines.append(
        '"No";"Identity";"";"";"not-an-email";"";"";"";""'
    )  # no valid email, no company: rejected
    (HERE / "salesforce_report_cp1252.csv").write_bytes(
        ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")
    )


def sales_navigator(rng: random.Random, crowd: list[dict]) -> None:
    rows = []
    for p in crowd[180:260]:
        c = p["company"]
        slug = (
            f"{p['first']}-{p['last']}-{rng.randint(1000, 9999)}".lower()
            .replace(" ", "-")
            .replace("'", "")
        )
        rows.append(
            json.dumps(
                {
                    "fullName": f"{p['first']} {p['last']}",
                    "title": p["title"],
                    "companyName": c[0],
                    "location": f"{c[4]}, {c[5] or COUNTRY_NAMES[c[3]][0]}",
                    "linkedinUrl": f"https://www.linkedin.com/in/{slug}/",
                    "companyWebsite": f"https://{c[2]}",
                },
                ensure_ascii=False,
            )
        )
    rows.insert(5, '{"fullName": "Truncated Record", "title": ')  # a broken line
    (HERE / "sales_navigator_scrape.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def apollo(rng: random.Random, crowd: list[dict]) -> None:
    records = []
    for i, p in enumerate(crowd[240:330]):
        c = p["company"]
        email = p["email"] if i % 6 else f"{p['email'].split('@')[0]}+apollo@{c[2]}"
        records.append(
            {
                "first_name": p["first"],
                "last_name": p["last"],
                "email": email,
                "title": p["title"],
                "organization_name": f"{c[0]} {c[1]}",
                "organization_website_url": f"http://www.{c[2]}",
                "sanitized_phone": p["phone"],
                "city": c[4],
                "state": c[5],
                "country": COUNTRY_NAMES[c[3]][0],
                "estimated_num_employees": rng.choice([120, 450, 2300, 15000, 35, 800]),
            }
        )
    with gzip.open(HERE / "apollo_people.json.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(records, fh, ensure_ascii=False)
    # gzip headers carry a timestamp: rewrite with mtime 0 so the file is byte-for-byte reproducible.
    data = gzip.decompress((HERE / "apollo_people.json.gz").read_bytes())
    (HERE / "apollo_people.json.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))


def not_leads() -> None:
    (HERE / "inventory_not_leads.csv").write_text(
        "sku,colour,size,stock\nA-1,red,M,10\nA-2,blue,L,4\n"
    )


def main() -> None:
    rng = random.Random(20261122)
    crowd = people(rng, 330)
    hubspot(rng, crowd)
    salesforce(rng, crowd)
    sales_navigator(rng, crowd)
    apollo(rng, crowd)
    not_leads()


if __name__ == "__main__":
    main()
