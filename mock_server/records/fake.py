"""Deterministic fake target records: the same (seed, tenant) gives the same bytes everywhere."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from string import ascii_uppercase
from typing import Any

from faker import Faker

from ..timefmt import cl_time
from .catalog import Catalog, RecordType

DEFAULT_EPOCH = 1767268800.0  # 2026-01-01T12:00:00Z: the notes' example timestamps (§4)
LOCALE = "en_US"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order
_STEP = 60.0  # seconds between two generated records' created_at
_INHERITED = ("currency_code",)  # copied from a referenced record so prices match their list

Record = dict[str, Any]
Refs = Mapping[str, Sequence[Mapping[str, Any]]]


def record_id(seq: int, *salt: object) -> str:
    """A 10-char base62 id: 5 chars of `seq` (so sort=id is creation order) + 5 of hash."""
    # The cleanups CLI pages records with sort=id and bounds chunks with id_lteq (notes B5).
    digest = hashlib.sha256("/".join(map(str, (seq, *salt))).encode()).digest()
    head = []
    n = seq
    for _ in range(5):
        n, r = divmod(n, 62)
        head.append(_B62[r])
    return "".join(reversed(head)) + "".join(_B62[b % 62] for b in digest[:5])


def id_sequence(record_id_: str) -> int:
    """The creation sequence encoded in the first five characters of an id (0 if foreign)."""
    n = 0
    for ch in record_id_[:5]:
        pos = _B62.find(ch)
        if pos < 0:
            return 0
        n = n * 62 + pos
    return n


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What a generator may look at besides the seeded Faker."""

    rtype: RecordType
    index: int
    seq: int
    epoch: float


Gen = Callable[[Faker, _Ctx], Any]

_NOUNS = ("T-Shirt", "Hoodie", "Cap", "Mug", "Backpack", "Sneakers", "Socks", "Poster")

# Generators named by the catalog's `fake:` entries; the seq suffix keeps unique keys unique.
NAMED: dict[str, Gen] = {
    "sku_code": lambda f, c: f"{f.lexify('????', letters=ascii_uppercase)}{c.seq:06d}"
    + str(f.random_element(("XS", "S", "M", "L", "XL"))),
    "bundle_code": lambda f, c: f"BUNDLE{c.seq:06d}",
    "card_code": lambda f, c: f"{f.bothify('????-####', letters=ascii_uppercase)}-{c.seq:05d}",
    "upper_code": lambda f, c: f"{f.lexify('???', letters=ascii_uppercase)}{c.seq:04d}",
    "number_code": lambda f, c: f"{c.seq:08d}",
    "order_number": lambda f, c: str(10_000_000 + c.seq),
    "product_name": lambda f, c: f"{f.color_name()} {f.word().title()} "
    + str(f.random_element(_NOUNS)),
    "list_name": lambda f, c: f"{f.city()} "
    + str(f.random_element(("Retail", "Wholesale", "Outlet"))),
    "city_name": lambda f, c: f"{f.city()} warehouse",
    "words_title": lambda f, c: " ".join(f.words(2)).title(),
    "promo_name": lambda f, c: f"{f.random_element(('Spring', 'Summer', 'Winter'))} sale {c.seq}",
    "tier_name": lambda f, c: f"Tier {c.index + 1}",
    "slug": lambda f, c: f"{f.word()}-{c.seq}",
    "sentence_or_blank": lambda f, c: f.sentence() if f.boolean(70) else None,
    "email_or_blank": lambda f, c: f"{f.user_name()}.{c.seq}@example.com" if f.boolean() else None,
    "image_url": lambda f, c: f"https://img.example.com/{f.hexify('^' * 12)}.jpg",
    "tariff_number": lambda f, c: f.numerify("####.##.####"),
    "token": lambda f, c: f.hexify("^" * 24),
    "small_int": lambda f, c: f.random_int(1, 5),
    "blank": lambda f, c: None,
}

# Defaults by attribute name, then by json type: realistic without listing every attribute.
_BY_NAME: dict[str, Gen] = {
    "email": lambda f, c: f"{f.user_name()}.{c.seq}@example.com",
    "code": NAMED["upper_code"],
    "number": NAMED["number_code"],
    "name": NAMED["words_title"],
    "description": NAMED["sentence_or_blank"],
    "first_name": lambda f, c: f.first_name(),
    "last_name": lambda f, c: f.last_name(),
    "company": lambda f, c: f.company() if f.boolean() else None,
    "line_1": lambda f, c: f.street_address(),
    "city": lambda f, c: f.city(),
    "zip_code": lambda f, c: f.postcode(),
    "state_code": lambda f, c: f.state_abbr(),
    "country_code": lambda f, c: f.random_element(("US", "IT", "DE", "FR", "GB")),
    "phone": lambda f, c: f.numerify("+1 ###-###-####"),
    "quantity": lambda f, c: f.random_int(0, 200),
    "position": lambda f, c: c.index + 1,
    "reference": NAMED["blank"],  # blank as in the notes' examples (§4), which dry_data drops
    "reference_origin": NAMED["blank"],
    "notes": NAMED["blank"],
    "metadata": lambda f, c: {},
}
_BY_TYPE: dict[str, Gen] = {
    "string": lambda f, c: f.word(),
    "integer": lambda f, c: f.random_int(0, 100),
    "number": lambda f, c: f.random_int(1, 50_000) / 100,
    "boolean": lambda f, c: f.boolean(),
    "object": lambda f, c: {},
    "array": lambda f, c: [],
    "datetime": lambda f, c: cl_time(c.epoch + f.random_int(1, 365) * 86_400),
}


def _generator(rtype: RecordType, attr: str) -> Gen:
    if attr in rtype.fakes:
        return NAMED[rtype.fakes[attr]]
    if attr in rtype.enums:
        values = rtype.enums[attr]
        return lambda f, c: f.random_element(values)
    if attr in _BY_NAME:
        return _BY_NAME[attr]
    if attr.endswith("_cents"):
        return lambda f, c: f.random_int(100, 99_900)
    return _BY_TYPE[rtype.attributes[attr]]


def _int_seed(*parts: object) -> int:
    # random.Random hashes str seeds with sha512, so this is stable across runs and machines.
    return random.Random("/".join(map(str, parts))).getrandbits(64)


def capacity(rtype: RecordType, refs: Refs) -> int | None:
    """How many records fit when the unique key is made of references only (None: unbounded)."""
    keyed = {attr: rel for rel, (attr, _) in rtype.foreign_keys.items()}
    if not rtype.unique_key or any(a not in keyed for a in rtype.unique_key):
        return None
    if any(rtype.relationships[keyed[a]] not in refs for a in rtype.unique_key):
        return None  # no targets given at all: keys stay null, which no unique key counts
    total = 1
    for attr in rtype.unique_key:
        total *= len(refs.get(rtype.relationships[keyed[attr]], ()))
    return total


def _pick_targets(rtype: RecordType, refs: Refs, fake: Faker, index: int
                  ) -> dict[str, Mapping[str, Any] | None]:
    """One referenced record per to-one relationship; unique-key references step like digits."""
    picked: dict[str, Mapping[str, Any] | None] = {}
    radix = index
    for rel, (attr, _) in rtype.foreign_keys.items():
        targets = refs.get(rtype.relationships[rel], ())
        if not targets:
            picked[rel] = None
        elif attr in rtype.unique_key:  # distinct combinations, so the unique key holds
            radix, pos = divmod(radix, len(targets))
            picked[rel] = targets[pos]
        else:
            picked[rel] = targets[fake.random_int(0, len(targets) - 1)]
    return picked


def generate(rtype: RecordType, count: int, seed: int, tenant: str, *,
             epoch: float = DEFAULT_EPOCH, refs: Refs | None = None, start: int = 0
             ) -> list[Record]:
    """`count` records of one type; references point into `refs` (type -> records)."""
    refs = refs or {}
    cap = capacity(rtype, refs)
    if cap is not None and count > cap:
        raise ValueError(f"{rtype.name}: only {cap} distinct {rtype.unique_key} exist in refs")
    fake = Faker(LOCALE)  # one instance, reseeded per record; never the global Faker seed
    out: list[Record] = []
    for index in range(count):
        seq = start + index + 1
        fake.seed_instance(_int_seed(seed, tenant, rtype.name, index))
        ctx = _Ctx(rtype, index, seq, epoch)
        picked = _pick_targets(rtype, refs, fake, index)
        fixed: dict[str, Any] = {}
        for rel, (attr, target_attr) in rtype.foreign_keys.items():
            target = picked[rel]
            fixed[attr] = None if target is None else target.get(target_attr)
            for name in _INHERITED:
                if target is not None and name in rtype.attributes and target.get(name):
                    fixed.setdefault(name, target[name])
        created = epoch + (seq - 1) * _STEP
        record: Record = {"id": record_id(seq, seed, tenant, rtype.name), "type": rtype.name}
        for attr in rtype.attributes:
            record[attr] = fixed[attr] if attr in fixed else _generator(rtype, attr)(fake, ctx)
        record["created_at"] = cl_time(created)
        record["updated_at"] = cl_time(created + fake.random_int(0, int(_STEP) - 1))
        out.append(record)
    return out


def generate_org(catalog: Catalog, seed: int, tenant: str, *, epoch: float = DEFAULT_EPOCH,
                 counts: Mapping[str, int] | None = None) -> dict[str, list[Record]]:
    """A small consistent organization: every type, targets generated before referrers."""
    out: dict[str, list[Record]] = {}
    start = 0
    for name in catalog.dependency_order():
        rtype = catalog[name]
        count = (counts or {}).get(name, rtype.sample)
        cap = capacity(rtype, out)
        if cap is not None:
            count = min(count, cap)  # fewer skus than asked prices: keep the unique key unique
        out[name] = generate(rtype, count, seed, tenant, epoch=epoch, refs=out, start=start)
        start += count
    return {name: out[name] for name in catalog.types}
