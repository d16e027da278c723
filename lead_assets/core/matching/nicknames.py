"""Common English nicknames -> canonical first name (a small built-in table)."""

from __future__ import annotations

_GROUPS = {
    "robert": "bob bobby rob robbie bert",
    "william": "bill billy will willie liam",
    "elizabeth": "liz lizzie beth betty eliza libby",
    "richard": "rick ricky dick rich",
    "michael": "mike mikey mick",
    "jennifer": "jen jenny",
    "thomas": "tom tommy",
    "joseph": "joe joey",
    "daniel": "dan danny",
    "matthew": "matt",
    "margaret": "peggy maggie meg",
    "katherine": "kate kathy katie kat",
    "catherine": "cathy cate",
    "christopher": "chris kit",
    "anthony": "tony",
    "james": "jim jimmy jamie",
    "john": "jack johnny",
    "david": "dave davy",
    "steven": "steve",
    "stephen": "steve",
    "edward": "ed eddie ted ned",
    "charles": "charlie chuck chas",
    "patricia": "pat patty trish",
    "jessica": "jess jessie",
    "susan": "sue susie",
    "deborah": "deb debbie",
    "rebecca": "becky becca",
    "alexander": "alex al sasha",
    "alexandra": "alex sandra",
    "andrew": "andy drew",
    "benjamin": "ben benny",
    "samuel": "sam sammy",
    "samantha": "sam",
    "nicholas": "nick nicky",
    "jonathan": "jon jonny",
    "timothy": "tim timmy",
    "gregory": "greg",
    "kenneth": "ken kenny",
    "ronald": "ron ronnie",
    "donald": "don donnie",
    "lawrence": "larry",
    "gerald": "gerry jerry",
    "victoria": "vicky tori",
    "christine": "chris tina",
    "kimberly": "kim",
    "cynthia": "cindy",
    "pamela": "pam",
    "judith": "judy",
    "abigail": "abby",
    "zachary": "zach zack",
    "joshua": "josh",
    "nathan": "nate",
    "nathaniel": "nate nat",
    "frederick": "fred freddie",
    "raymond": "ray",
    "philip": "phil",
    "peter": "pete",
    "douglas": "doug",
    "jeffrey": "jeff",
    "harold": "harry hal",
    "henry": "hank harry",
}
NICKNAMES: dict[str, str] = {}
for canonical, nicks in _GROUPS.items():
    NICKNAMES[canonical] = canonical
    for nick in nicks.split():
        NICKNAMES.setdefault(nick, canonical)


def canonical_first(name: str) -> str:
    """Lowercased first name with nicknames folded ("Bob" -> "robert")."""
    key = name.strip().lower()
    return NICKNAMES.get(key, key)
