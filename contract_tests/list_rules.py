"""List rules, pure: pages and markers agree with what was served, and the order and filters
asked for hold (an Exchange in, "Received … / Documented …" problems out)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .exchange import Exchange, resolve
from .model import dialect

_PAGE = ("page[number]", "page[size]")


def paging_problems(ex: Exchange) -> list[str]:
    """List metadata and links agree with the page served (JSON:API pages, Rackspace markers)."""
    if ex.method != "GET" or ex.status != 200 or not isinstance(ex.body, Mapping):
        return []
    if dialect(ex.path) == "rackspace":
        return _marker_problems(ex)
    return _page_problems(ex)


def _page_problems(ex: Exchange) -> list[str]:
    body = ex.body
    meta, links, data = body.get("meta"), body.get("links"), body.get("data")
    if not (isinstance(meta, Mapping) and isinstance(links, Mapping) and isinstance(data, list)):
        return []
    count, pages = meta.get("record_count"), meta.get("page_count")
    if any(n > 1 for k, n in Counter(k for k, _ in ex.query).items() if k in _PAGE):
        return []  # a repeated page parameter: which one wins is the server's choice
    query = dict(ex.query)
    try:
        number = int(query.get("page[number]", 1))
        size = int(query.get("page[size]", _default_size(ex)))
    except ValueError:
        return []
    if not isinstance(count, int) or not isinstance(pages, int) or size < 1 or number < 1:
        return []
    where = f"GET {ex.path} page {number} (size {size})"
    out: list[str] = []
    if pages != math.ceil(count / size):
        out.append(f"{where}: page_count disagrees with record_count. Received page_count={pages}"
                   f" for record_count={count} / Documented ceil(record_count / page[size]) = "
                   f"{math.ceil(count / size)}")
    expected = max(0, min(size, count - (number - 1) * size))
    if len(data) != expected:
        out.append(f"{where}: wrong number of records. Received {len(data)} / Documented "
                   f"{expected} of record_count={count}")
    want: dict[str, int | None] = {
        "first": 1, "last": max(pages, 1),
        "next": number + 1 if number < pages else None,
        "prev": number - 1 if 1 < number <= max(pages, 1) else None,
    }
    others = Counter((k, v) for k, v in ex.query if k not in _PAGE)
    for rel, target in want.items():
        href = links.get(rel)
        if target is None:
            if rel == "next" and href:
                out.append(f"{where}: `next` link on the last page. Received {href} / "
                           f"Documented no next link when page[number] ≥ page_count={pages}")
            continue
        if not isinstance(href, str):
            out.append(f"{where}: `{rel}` link missing. Received links {sorted(links)} / "
                       f"Documented `{rel}` → page {target}")
            continue
        got = parse_qsl(urlsplit(href).query, keep_blank_values=True)
        got_number = dict(got).get("page[number]")
        if got_number != str(target):
            out.append(f"{where}: `{rel}` link points at the wrong page. Received "
                       f"page[number]={got_number} / Documented {target}")
        if Counter((k, v) for k, v in got if k not in _PAGE) != others:
            out.append(f"{where}: `{rel}` link drops or changes the query. Received {href} / "
                       f"Documented the request's filters, sort and fields kept")
    return out


def _marker_problems(ex: Exchange) -> list[str]:
    body = ex.body
    key = next((k for k, v in body.items() if isinstance(v, list) and k != "links"), None)
    links = body.get("links")
    if key is None or not isinstance(links, list):
        return []
    items = [i for i in body[key] if isinstance(i, Mapping)]
    query = dict(ex.query)
    out: list[str] = []
    where = f"GET {ex.path}"
    try:
        limit = int(query["limit"]) if "limit" in query else None
    except ValueError:
        limit = None
    if limit is not None and len(items) > limit:
        out.append(f"{where}: more items than asked. Received {len(items)} / Documented ≤ "
                   f"limit={limit}")
    if not items:
        return out
    # notes: rackspace_cleanups.md §8 Pagination — next: marker=<last id>; previous:
    # marker=<first id> plus the opposite sort_dir.
    default_dir = _default_sort_dir(ex)
    sort_dir = query.get("sort_dir", default_dir)
    for link in links:
        if not isinstance(link, Mapping) or not isinstance(link.get("href"), str):
            continue
        params = dict(parse_qsl(urlsplit(link["href"]).query))
        if link.get("rel") == "next" and params.get("marker") != str(items[-1].get("id")):
            out.append(f"{where}: `next` marker is not the last item. Received "
                       f"marker={params.get('marker')} / Documented {items[-1].get('id')}")
        if link.get("rel") == "previous":
            if params.get("marker") != str(items[0].get("id")):
                out.append(f"{where}: `previous` marker is not the first item. Received "
                           f"marker={params.get('marker')} / Documented {items[0].get('id')}")
            back = params.get("sort_dir", default_dir)
            if back == sort_dir:
                out.append(f"{where}: `previous` link keeps the direction. Received "
                           f"sort_dir={back} / Documented the opposite of {sort_dir}")
    return out


def _param_default(ex: Exchange, name: str, fallback: Any) -> Any:
    op = ex.operation or {}
    path_item = ex.spec.get("paths", {}).get(ex.template or "", {})
    for param in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        param = resolve(ex.spec, param)
        if param.get("name") == name:
            return (param.get("schema") or {}).get("default", fallback)
    return fallback


def _default_size(ex: Exchange) -> int:
    return int(_param_default(ex, "page[size]", 10))  # notes: commercelayer_api.md §3 default 10


def _default_sort_dir(ex: Exchange) -> str:
    return str(_param_default(ex, "sort_dir", "desc"))



def _items(ex: Exchange) -> list[Mapping[str, Any]]:
    """The resource objects of a JSON:API list answer (id merged into the attributes)."""
    if ex.method != "GET" or ex.status != 200 or not isinstance(ex.body, Mapping):
        return []
    data = ex.body.get("data")
    if not isinstance(data, list):
        return []
    return [{**(item.get("attributes") or {}), "id": item.get("id")} for item in data
            if isinstance(item, Mapping) and isinstance(item.get("attributes") or {}, Mapping)]


def _comparable(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def sort_problems(ex: Exchange) -> list[str]:
    """`sort=a,-b` (JSON:API): the page is ordered by those fields (notes: commercelayer_api.md
    §3 Sorting). Pairs where a sort field is null or of mixed types are left alone (the order of
    nulls is the server's choice)."""
    sorts = [v for k, v in ex.query if k == "sort"]
    items = _items(ex)
    if len(sorts) != 1 or len(items) < 2 or dialect(ex.path) != "commercelayer":
        return []
    keys = [(name.lstrip("-"), name.startswith("-")) for name in sorts[0].split(",") if name]
    for before, after in zip(items, items[1:], strict=False):
        for name, desc in keys:
            a, b = before.get(name), after.get(name)
            if not (_comparable(a) and _comparable(b)) or isinstance(a, str) != isinstance(b, str):
                break
            if a == b:
                continue
            if _wrong_order(a, b, desc):
                return [f"GET {ex.path}?sort={sorts[0]}: out of order. Received {before['id']} "
                        f"({name}={a!r}) before {after['id']} ({name}={b!r}) / Documented "
                        f"{'descending' if desc else 'ascending'} by {name}"]
            break
    return []


def _wrong_order(a: Any, b: Any, desc: bool) -> bool:
    """`a` listed before `b` is wrong whatever the server's collation (exact or case-blind)."""
    if isinstance(a, str):
        if a.casefold() == b.casefold():
            return False  # which comes first depends on the collation
        return (a > b) != desc and (a.casefold() > b.casefold()) != desc
    return bool((a > b) != desc)


_FILTER = "filter[q]["
# Ransack predicates this rule can judge exactly: equality, inclusion, nullness.
_PREDICATES = ("not_null", "not_eq", "not_in", "null", "eq", "in")


def _matches(value: Any, wanted: str, loose: bool) -> bool:
    """`value` equals the query's text; `loose` also when only case differs (MySQL collations)."""
    if isinstance(value, bool):
        return wanted.lower() in (("true", "1", "t") if value else ("false", "0", "f"))
    if isinstance(value, int | float):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    if not isinstance(value, str):
        return False
    return value == wanted or (loose and value.casefold() == wanted.casefold())


_BOOLEANS = ("true", "false", "1", "0", "t", "f")


def filter_problems(ex: Exchange) -> list[str]:
    """`filter[q][<attribute>_<eq|not_eq|in|not_in|null|not_null>]`: every listed item matches
    (notes: commercelayer_api.md §3 Filtering). Timestamps, combined attributes and other
    predicates are not judged here: their exact semantics are the server's."""
    items = _items(ex)
    if not items or dialect(ex.path) != "commercelayer":
        return []
    asked: dict[str, list[str]] = {}
    for key, wanted in ex.query:  # `_in` may repeat its key (`filter[q][status_in][]=a&…=b`)
        if key.startswith(_FILTER) and key.endswith("]"):
            asked.setdefault(key[len(_FILTER):-1].removesuffix("]["), []).append(wanted)
    out: list[str] = []
    for name, given in asked.items():
        predicate = next((p for p in _PREDICATES if name.endswith("_" + p)), None)
        attribute = name[: -len(predicate) - 1] if predicate else ""
        if predicate is None or attribute.endswith("_at") or "_or_" in attribute \
                or "_and_" in attribute or (len(given) > 1 and not predicate.endswith("in")):
            continue
        wanted = ",".join(given)
        for item in items:
            if attribute not in item:
                break  # not an attribute of the resource (or a sparse fieldset left it out)
            value = item[attribute]
            # Only what every collation agrees on: eq/in may ignore case, not_eq/not_in may not.
            if predicate in ("null", "not_null"):
                if wanted.lower() not in _BOOLEANS:
                    break
                flag = wanted.lower() in ("true", "1", "t")
                ok = (value is None) == (flag == (predicate == "null"))
            elif predicate == "eq":
                ok = _matches(value, wanted, loose=True)
            elif predicate == "not_eq":
                ok = not _matches(value, wanted, loose=False)
            elif predicate == "in":
                ok = any(_matches(value, v, loose=True) for v in wanted.split(","))
            else:
                ok = not any(_matches(value, v, loose=False) for v in wanted.split(","))
            if not ok:
                out.append(f"GET {ex.path} with filter[q][{name}]={wanted}: an item does not "
                           f"match. Received {item['id']} with {attribute}={value!r} / "
                           f"Documented only items whose {attribute} "
                           f"{predicate.replace('_', ' ')} {wanted!r}")
                break
    return out

