"""The labeled evaluation set of the verify/prune classifier, built deterministically.

Library side: the owned albums of `discographies.txt`, each spelled with one of the variations
real catalogs have (cycled so every kind is present): "Beatles, The", "[UK]" disambiguation,
accents dropped, ALL CAPS, "and" for "&", typos in titles and artists, format suffixes
(12", "(reissue)", "(2 cd set)", "(LP)"); compilations filed as "Various Artists", "V/A",
"Soundtrack"; albums Discogs does not have. Cache side: one to three pressings of every owned
album (Discogs " (n)" artist suffixes, "(Remastered)" and edition pressings), every other
album of the same artists (titles sharing words with owned ones), alias credits joined by
artist id, multi-artist credits, and decoy artists whose names contain a library artist's.

Fidelity cases (`FIDELITY`, issue 18): strangers whose short title names a library
soundtrack, a library artist as a stranger's second credit, a near short title, homonym
masters broken by the station's label or owned format, and a scale case: one library album
against many same-titled strangers (homonym artists' masters, strangers, near titles).
Every release has a master (an owned album's pressings share one).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from discogs_cache.library.catalog import CatalogEntry
from discogs_cache.library.labels import LabelPreference
from discogs_cache.matcher import (
    ArtistMappings,
    Classification,
    Credit,
    ReleaseRecord,
    build_index,
    classify_releases,
)
from discogs_cache.matcher.albums import album_preferences
from discogs_cache.normalize import strip_accents

SOURCE = Path(__file__).with_name("discographies.txt")
SEED = 20240601

# (library artist, Discogs credit, that credit's aliases, owned titles, other titles)
ALIAS_CASES = [
    ("Puff Daddy", "Diddy", ["Puff Daddy", "P. Diddy", "Sean Combs"], ["Press Play"],
     ["Last Train To Paris"]),
    ("Will Oldham", 'Bonnie "Prince" Billy', ["Will Oldham", "Palace Music", "Palace Brothers"],
     ["I See A Darkness", "Master And Everyone"],
     ["Beware", "The Letting Go", "Wolfroy Goes To Town"]),
    ("Prince", "The Artist (Formerly Known As Prince)", ["Prince", "TAFKAP"], ["Emancipation"],
     ["Crystal Ball", "The Gold Experience"]),
    ("MF Doom", "King Geedorah", ["MF Doom", "Metal Fingers", "Viktor Vaughn"],
     ["Take Me To Your Leader"], []),
]  # fmt: skip
# Owned albums whose release credits several main artists (kept through the second one).
MULTI = {("John Cale", "Songs For Drella"): ("Lou Reed", "John Cale")}
# Other albums credited to a library artist plus a non-library one (must still be pruned).
MULTI_OTHER = [(("Neil Young", "Crazy Horse"), "Ragged Glory"), (("Lou Reed", "Metallica"), "Lulu")]
COMPILATIONS = [
    ("Various Artists", "Nuggets: Original Artyfacts From The First Psychedelic Era 1965-1968",
     "Various"),
    ("V/A", "Now That's What I Call Music! 11", "Various"),
    ("Soundtrack", "Pulp Fiction", "Various"),
    ("Soundtrack", "O Brother, Where Art Thou?", "Various"),
    ("Various Artists", "Anthology Of American Folk Music", "Various"),
    ("VARIOUS ARTISTS", "No New York", "Various"),
    ("Various Artists", "Studio One Rockers", "Various"),
    ("Soundtrack", "Saturday Night Fever", "Bee Gees"),
]  # fmt: skip
COMPILATION_RELEASES = {  # Discogs titles of the owned compilations' pressings
    "Pulp Fiction": ["Pulp Fiction (Music From The Motion Picture)", "Pulp Fiction"],
    "O Brother, Where Art Thou?": ["O Brother, Where Art Thou? (Music From The Film)"],
    "Saturday Night Fever": ["Saturday Night Fever (The Original Movie Sound Track)"],
}
OTHER_COMPILATIONS = [
    "Nuggets II: Original Artyfacts From The British Empire And Beyond 1964-1969",
    "Now That's What I Call Music! 12",
    "Now That's What I Call Music! 45",
    "Jackie Brown (Music From The Miramax Motion Picture)",
    "Kill Bill Vol. 1 (Original Soundtrack)",
    "Studio One Soul",
    "Anthology Of American Folk Music Volume 4",
    "Ultimate Breaks & Beats",
    "Saturday Night Live",
    "New York Noise",
]
DECOYS = [  # artists whose names contain a library artist's, with owned albums' titles
    ("Beatles Tribute Band", ["Abbey Road", "Revolver"]),
    ("The Beatles Revival Band", ["Let It Be"]),
    ("Pixies Tribute", ["Doolittle"]),
    ("The Cure Tribute Ensemble", ["Disintegration"]),
    ("Ramones Forever", ["Rocket To Russia"]),
    ("Prince Buster", ["Fabulous Greatest Hits", "I Feel The Spirit"]),
    ("Television Personalities", ["And Don't The Kids Just Love It"]),
    ("Wire Train", ["In A Chamber"]),
    ("Low Cut Connie", ["Dirty Pictures (Part 1)"]),
    ("Radiohead String Quartet Tribute", ["OK Computer"]),
    ("Kraftwerk Orchestra", ["Computer World"]),
    ("Bob Dylan's 115th Dream Band", ["Blood On The Tracks"]),
]
NOT_ON_DISCOGS = [
    ("Local Yokels, The", "Demo Tape 1998"),
    ("Chapel Hill Noise Collective", "Live At Cat's Cradle"),
    ("WXYC DJs", "Benefit Compilation Volume 3"),
    ("Dorm Band [NC]", "Love Night"),
    ("Tar Heel Ramblers", "Songs From Franklin Street"),
    ("Carrboro Cats", "Greatest Hits"),
    ("Basement Tapes Trio", "Abbey Road Sessions Vol 9"),
    ("Kudzu Kings Revival", "Southern Lights"),
]
TITLE_SUFFIXES = [' 12"', " (reissue)", " (2 cd set)", " (LP)", ' 7"', " (deluxe edition)"]
PRESSINGS = ["", " (Remastered)", " (Deluxe Edition)", " (2)", " (Expanded Edition)", ""]


@dataclass
class EvalSet:
    library: list[CatalogEntry] = field(default_factory=list)
    releases: list[ReleaseRecord] = field(default_factory=list)
    aliases: dict[int, list[str]] = field(default_factory=dict)
    truth: dict[int, int | None] = field(default_factory=dict)
    """release id -> library entry id of the album it is a pressing of (None: not owned)."""
    variations: dict[int, str] = field(default_factory=dict)
    """library entry id -> the name of the spelling variation applied."""
    labels: list[LabelPreference] = field(default_factory=list)
    cases: dict[str, tuple[set[int], set[int]]] = field(default_factory=dict)
    """Fidelity case -> (its release ids, the ones the classifier must retain)."""

    def preferences(self) -> dict:
        return album_preferences(build_index(self.library).owned_formats, self.labels)


@dataclass(frozen=True)
class Quality:
    recall: float
    precision: float
    albums: int
    albums_found: int
    kept: int
    kept_correct: int
    missed: tuple[str, ...]
    false_keeps: tuple[str, ...]

    def line(self) -> str:
        return (
            f"recall {self.recall:.3f} ({self.albums_found}/{self.albums} library albums)  "
            f"precision {self.precision:.3f} ({self.kept_correct}/{self.kept} kept releases)"
        )


def _typo(text: str) -> str:
    words = text.split()
    i = max(range(len(words)), key=lambda k: (len(words[k]), -k))
    w = words[i]
    if len(w) >= 5 and w[2:4].isalpha():
        words[i] = w[:2] + w[3] + w[2] + w[4:]
    return " ".join(words)


def _the_comma(artist: str) -> str | None:
    m = re.match(r"^(The|Los|Die)\s+(.+)$", artist)
    return f"{m[2]}, {m[1]}" if m else None


_AND = {"&": " and ", "and": "&"}
Variation = Callable[[str, str], tuple[str, str] | None]
VARIATIONS: list[tuple[str, Variation]] = [
    ("plain", lambda a, t: (a, t)),
    ("article comma", lambda a, t: (c, t) if (c := _the_comma(a)) else None),
    ("all caps", lambda a, t: (a.upper(), t.upper())),
    ("accents dropped", lambda a, t: (strip_accents(a), strip_accents(t))),
    ("and for &", lambda a, t: (a.replace(" & ", " and "), t) if "&" in a else None),
    ("title typo", lambda a, t: (a, _typo(t)) if _typo(t) != t else None),
    ("format suffix", lambda a, t: (a, t + TITLE_SUFFIXES[len(t) % len(TITLE_SUFFIXES)])),
    ("artist typo", lambda a, t: (_typo(a), t) if len(a) >= 9 and _typo(a) != a else None),
    ("no article", lambda a, t: (a[4:], t) if a.startswith("The ") else None),
]
_DISAMBIGUATION = {"Bush (2)": "Bush [UK]", "Low (2)": "Low [US]", "Chicago (2)": "Chicago"}


def _parse() -> list[tuple[str, list[str], list[str]]]:
    rows = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        artist, owned, other = (part.strip() for part in line.split("|"))
        split = [[t.strip() for t in part.split(";") if t.strip()] for part in (owned, other)]
        rows.append((artist, split[0], split[1]))
    return rows


def build_eval_set() -> EvalSet:
    """Build the evaluation set (same result on every call: fixed seed, fixed source)."""
    rng = random.Random(SEED)
    es = EvalSet()
    counter = {"release": 1, "entry": 1, "variation": 0}

    def add_entry(artist: str, title: str, variation: str = "plain", fmt: str | None = None) -> int:
        entry_id = counter["entry"]
        counter["entry"] += 1
        es.library.append(CatalogEntry(entry_id, title, artist, format=fmt))
        es.variations[entry_id] = variation
        return entry_id

    def add_release(
        title: str,
        credits: tuple[Credit, ...],
        truth: int | None,
        master: int | None = None,
        fmt: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> int:
        rid = counter["release"]
        counter["release"] += 1
        master = master if master is not None else 10**6 + rid
        es.releases.append(ReleaseRecord(rid, title, credits, master, fmt, labels))
        es.truth[rid] = truth
        return rid

    def owned(discogs_artist: str, library_artist: str, title: str, credits: tuple) -> None:
        varied = None
        if "&" in library_artist and rng.random() < 0.5:
            name, varied = "and for &", (library_artist.replace(" & ", " and "), title)
        elif _the_comma(library_artist) and rng.random() < 0.4:
            name, varied = "article comma", (_the_comma(library_artist), title)
        for _ in range(len(VARIATIONS)):
            if varied:
                break
            name, vary = VARIATIONS[counter["variation"] % len(VARIATIONS)]
            counter["variation"] += 1
            varied = vary(library_artist, title)
        entry = add_entry(*varied, variation=name) if varied else add_entry(library_artist, title)
        for suffix in rng.sample(PRESSINGS, rng.randint(1, 3)):
            add_release(title + suffix, credits, entry, master=entry)

    for number, (artist, owned_titles, other_titles) in enumerate(_parse()):
        credit = Credit(artist, 1000 + number)
        library_artist = _DISAMBIGUATION.get(artist, artist)
        for title in owned_titles:
            names = MULTI.get((artist, title))
            credits = tuple(Credit(n, 1000 + number) for n in names) if names else (credit,)
            owned(artist, library_artist, title, credits)
        for title in other_titles:
            for suffix in rng.sample(PRESSINGS, rng.randint(1, 2)):
                add_release(title + suffix, (credit,), None)
    for number, (library_artist, discogs, aliases, owned_titles, others) in enumerate(ALIAS_CASES):
        credit = Credit(discogs, 5000 + number)
        es.aliases[5000 + number] = list(aliases)
        for title in owned_titles:
            owned(discogs, library_artist, title, (credit,))
        for title in others:
            add_release(title, (credit,), None)
    for names, title in MULTI_OTHER:
        add_release(title, tuple(Credit(n, 6000 + i) for i, n in enumerate(names)), None)
    for library_artist, title, credit_name in COMPILATIONS:
        entry = add_entry(library_artist, title, "compilation")
        for pressing in COMPILATION_RELEASES.get(title, [title]):
            add_release(pressing, (Credit(credit_name, 194),), entry)
    for title in OTHER_COMPILATIONS:
        add_release(title, (Credit("Various", 194),), None)
    for number, (decoy, titles) in enumerate(DECOYS):
        for title in titles:
            add_release(title, (Credit(decoy, 7000 + number),), None)
    for artist, title in NOT_ON_DISCOGS:
        add_entry(artist, title, "not on discogs")
    _fidelity_cases(es, add_entry, add_release)
    return es


def _fidelity_cases(es: EvalSet, add_entry: Callable, add_release: Callable) -> None:
    """The cases of each cause of lost precision at scale (see the module docstring)."""

    def case(name: str, ids: list[int], retained: list[int]) -> None:
        es.cases[name] = (set(ids), set(retained))

    nation = add_entry("Soundtrack", "Nation", "compilation")
    real = add_release("Nation (Original Motion Picture Soundtrack)", (Credit("A Composer", 8001),),
                       nation)  # fmt: skip
    strangers = [add_release("Nation", (Credit(f"Nation Band {i}", 8100 + i),), None)
                 for i in range(3)]  # fmt: skip
    case("soundtrack title stranger", [real, *strangers], [real])
    second = add_release("Once Upon A Time In The West", (Credit("Ennio Stranger", 8200),
                         Credit("Pixies", 1000)), None)  # fmt: skip
    case("library artist second", [second], [])
    dream = add_entry("Kate Bush", "Dream (2 cd set)")
    near = add_release("Daydream", (Credit("Kate Bush", 8300),), None)
    owned = add_release("Dream", (Credit("Kate Bush", 8300),), dream, master=8300)
    case("near short title", [near, owned], [owned])
    # homonyms with an identical title: the station's label, then its owned format decide
    sky = add_entry("Galaxie 500", "Today", fmt="LP")
    es.labels.append(LabelPreference("Galaxie 500", "Today", "Aurora"))
    by_label = add_release("Today", (Credit("Galaxie 500", 8400),), sky, 8400, "CD", ("Aurora",))
    other = add_release("Today", (Credit("Galaxie 500 (2)", 8401),), None, 8401, "Vinyl", ("Pye",))
    case("homonym master, label", [by_label, other], [by_label])
    tide = add_entry("Unwound", "Leaves", fmt="CD")
    by_format = add_release("Leaves", (Credit("Unwound", 8500),), tide, 8500, "CD")
    vinyl = add_release("Leaves", (Credit("Unwound (2)", 8501),), None, 8501, "Vinyl")
    case("homonym master, format", [by_format, vinyl], [by_format])
    # scale: one library album against many same-titled strangers
    home = add_entry("Kids, The", "Home", fmt="LP")
    add_entry("Soundtrack", "Home", "compilation")
    es.labels.append(LabelPreference("The Kids", "Home", "Sub Pop"))
    kids = (Credit("The Kids", 8600),)
    kept = [add_release("Home", kids, home, 8600, "Vinyl", ("Sub Pop",)),
            add_release("Home (Remastered)", kids, home, 8600, "CD")]  # fmt: skip
    crowd = []
    for i in range(2, 62):
        crowd.append(add_release("Home", (Credit(f"The Kids ({i})", 8600 + i),), None, 8600 + i,
                                 "CD", ("Other Label",)))  # fmt: skip
        crowd.append(add_release("Home", (Credit(f"Home Band {i}", 8700 + i),), None))
        crowd.append(add_release("Homes", (Credit(f"Kids ({i})", 8600 + i),), None))
    case("scale: one album, many same-titled strangers", [*kept, *crowd], kept)


def quality(es: EvalSet, classification: Classification) -> Quality:
    """Recall: library albums with a pressing kept. Precision: kept pressings that are owned."""
    kept = classification.retain_ids
    albums = {t for t in es.truth.values() if t is not None}
    found = {es.truth[r] for r in kept if es.truth.get(r) is not None}
    correct = sum(1 for r in kept if es.truth.get(r) is not None)
    entries = {e.id: e for e in es.library}
    titles = {r.id: r for r in es.releases}
    missed = tuple(
        f"{entries[a].artist} - {entries[a].title} [{es.variations[a]}]"
        for a in sorted(albums - found)
    )
    false_keeps = tuple(
        f"{'/'.join(c.name for c in titles[r].credits)} - {titles[r].title}"
        for r in sorted(kept)
        if es.truth.get(r) is None
    )
    return Quality(
        recall=len(found) / len(albums),
        precision=correct / len(kept) if kept else 1.0,
        albums=len(albums),
        albums_found=len(found),
        kept=len(kept),
        kept_correct=correct,
        missed=missed,
        false_keeps=false_keeps,
    )


def classify(es: EvalSet, mappings: ArtistMappings | None = None) -> Classification:
    """The real classifier (per release, then albums settled) on the evaluation set."""
    return classify_releases(
        build_index(es.library),
        es.releases,
        aliases=es.aliases,
        mappings=mappings,
        preferences=es.preferences(),
    )


def evaluate(mappings: ArtistMappings | None = None) -> Quality:
    """Classify the evaluation set with the real classifier and measure it."""
    es = build_eval_set()
    return quality(es, classify(es, mappings))


if __name__ == "__main__":
    result = evaluate()
    print(result.line())
    for line in result.missed:
        print("  missed:", line)
    for line in result.false_keeps:
        print("  false keep:", line)
