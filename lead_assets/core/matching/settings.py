"""The matcher's rules as data: blocking, comparisons with their weights, guards and clustering.

The model is Fellegi-Sunter in log form (as Splink): every comparison of two records falls in one
level, each level carries a weight ``log2(m / u)`` (how much more often that level is seen among
true matches than among non-matches), a pair's score is the sum of its levels' weights, and a pair
links when the score reaches ``threshold``. A disagreement therefore *lowers* the score; it vetoes
only where a guard says so. The weights below were set by reasoning about m and u for B2B lead
data (e.g. a personal free-mail address next to a work address is common for one person, so it
costs little; two people rarely share a mobile number, so it weighs much), then checked on an
independent labeled generator (``benchmarks/labeled_b2b.py``) and on FEBRL.

``MATCH_SETTINGS.summary()`` is what the ``deduplicated_accounts`` asset shows in its metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Blocking:
    """Which pairs are compared at all (everything else is a non-match without a look)."""

    #: Exact identity keys: the same value is the same person (role mailboxes excepted).
    exact_keys: tuple[str, ...] = ("email_match_key", "linkedin_url", "vendor_lead_id")
    #: Records sharing a phone are compared, unless more than this many share it (a switchboard).
    max_phone_group: int = 50
    #: Records of one organization (domain or company key) whose first or last name starts with
    #: the same two letters are compared; a block larger than this is compared in a sorted window.
    name_prefix: int = 2
    max_block: int = 60


@dataclass(frozen=True)
class Comparisons:
    """Weights (log2 Bayes factors) per comparison level."""

    first_exact: float = 4.0  # after folding nicknames of the built-in table
    first_prefix: float = 3.0  # Deb / Deborah, Nic / Nicholas (at least 3 letters)
    first_similar: float = 2.0  # Jaro-Winkler >= first_similar_at (typos: Wlliam / William)
    first_similar_at: float = 0.88
    first_initial: float = 2.0  # an initial that fits (J. / John)
    first_weak: float = -1.0  # Jaro-Winkler >= first_weak_at: a heavy typo or another name
    first_weak_at: float = 0.75
    first_differs: float = -4.0
    last_exact: float = 5.0
    last_similar: float = 3.0  # Jaro-Winkler >= last_similar_at
    last_similar_at: float = 0.88
    last_differs: float = -6.0
    org_same: float = 4.0  # shares a domain or a company key
    org_similar: float = 1.5  # no shared key, but company keys alike (a typo: longreach/longeach)
    org_similar_at: float = 0.92
    org_differs: float = -5.0  # both known, nothing shared, nothing alike
    #: A shared phone, by line type: a mobile belongs to one person, an office line to several.
    phone_same: dict[str, float] = field(
        default_factory=lambda: {
            "mobile": 8.0,
            "fixed_line_or_mobile": 6.0,
            "fixed_line": 5.0,
            "": 6.0,
        }
    )
    phone_differs: float = -1.0  # people have several numbers: a weak signal
    email_work_vs_free: float = -1.0  # one work and one personal mailbox: common for one person
    email_both_free_differ: float = -3.0
    email_work_differ: float = -3.0  # different work mailboxes at different domains
    email_local_has_surname: float = 1.0  # lisaramirez@hotmail.com next to a Ramirez
    country_same: float = 0.5
    country_differs: float = -1.0
    title_same: float = 1.0
    #: Names whose digits differ ("Test User 1" / "Test User 2", "Kim7x12" / "Kim7x21"): numbered
    #: records are different records, however alike their letters.
    name_digits_differ: float = -12.0


@dataclass(frozen=True)
class Guards:
    """Cluster-level vetoes: they hold for whole clusters, so no chain of links gets around them."""

    #: Two clusters whose work mailboxes differ altogether are two people (at one domain:
    #: colleagues of one name, ann.lee@ and ann.lee2@; at two domains: namesakes).
    distinct_work_mailboxes: bool = True
    #: Two clusters with different free-mail addresses are two people.
    distinct_free_mailboxes: bool = True
    #: Clusters at different organizations merge only through a shared phone and surname.
    namesakes_at_other_organizations: bool = True


@dataclass(frozen=True)
class Clustering:
    """How scored pairs become clusters."""

    threshold: float = 8.5  # a pair links at or above this score
    #: Links are applied strongest first, so a weak link cannot pre-empt a strong one and a guard
    #: refuses the weak link that would chain two clusters.
    order: str = "score descending"


@dataclass(frozen=True)
class MatchSettings:
    """Blocking, comparisons, guards and clustering of the entity resolver."""

    blocking: Blocking = field(default_factory=Blocking)
    comparisons: Comparisons = field(default_factory=Comparisons)
    guards: Guards = field(default_factory=Guards)
    clustering: Clustering = field(default_factory=Clustering)

    def summary(self) -> dict[str, object]:
        """A plain dict for asset metadata and the README."""
        return asdict(self)


MATCH_SETTINGS = MatchSettings()
