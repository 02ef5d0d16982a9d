"""FHIR search: request parameters → a storage Query; every unknown or malformed parameter is an
error with a fix (a consumer must never silently get an unfiltered result)."""
from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.searchparams import SearchParam, date_range, normalize_reference, registry
from mock_platform.storage import Query, owned_by_r

MAX_COUNT = 1000
DEFAULT_COUNT = 50
RESULT_PARAMS = ("_count", "_offset", "_sort", "_include", "_revinclude", "_summary", "_total", "_format",
                 "_pretty")
COMMON_PARAMS = ("_id", "_lastUpdated")
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass
class Search:
    query: Query
    includes: list[tuple[str, str]] = field(default_factory=list)      # (type, param) of this type
    revincludes: list[tuple[str, str]] = field(default_factory=list)   # (other type, param)
    summary_count: bool = False


def parse(tenant: str, rtype: str, args: MultiDict, page_limit: int = MAX_COUNT) -> Search:
    """`page_limit`: the most entries a page may hold (the tenant's max_page_size); `_count`
    above it, and the default, are lowered to it."""
    info = registry()[rtype]
    query = Query(tenant, rtype, count=min(DEFAULT_COUNT, page_limit))
    search = Search(query)
    indexed: list[_IndexClause] = []
    for key in args:
        name, _, modifier = key.partition(":")
        values = args.getlist(key)
        if name in RESULT_PARAMS:
            _result_param(search, rtype, name, values, page_limit)
        elif name == "_id":
            ids = [v for value in values for v in value.split(",") if v]
            query.where.append((f"r.id IN ({','.join('?' * len(ids))})", ids) if ids else ("1=0", []))
        elif name == "_lastUpdated":
            for value in values:
                query.where.append(_date_clause_point(value))
        elif name in info.params:
            if modifier and modifier not in ("exact",):
                raise _bad(key, f"The modifier ':{modifier}' is not supported.",
                           f"Search with {name}=... without a modifier (see the CapabilityStatement).")
            for value in values:
                clause = _clause(info.params[name], value, key)
                if info.params[name].paths == (info.patient_path,) and len(clause.args) == 2:
                    clause.patient = clause.args[1]     # one patient: the compartment's own reference
                indexed.append(clause)
        else:
            supported = ", ".join([*COMMON_PARAMS, *info.params, *RESULT_PARAMS[:5]])
            raise _bad(key, f"Unknown search parameter '{key}' for {rtype}.",
                       f"Supported for {rtype}: {supported}.")
    query.where[:0] = _assemble(tenant, rtype, indexed)
    return search


@dataclass
class _IndexClause:
    rank: int            # which clause drives the query: references, then tokens, then dates
    table: str           # "tokens t" or "dates d"
    condition: str       # over the alias, with '?' placeholders
    args: list
    exact: bool = False          # a token clause of one system|code or code: an equality on tokens.value
    patient: str | None = None   # a reference clause naming one patient of the type's compartment


def _assemble(tenant: str, rtype: str, clauses: list[_IndexClause]) -> list[tuple[str, list]]:
    """The most selective clause drives the query through its index (IN); the others are checked
    per candidate (EXISTS on the owner index), so no clause ever materialises a large list.

    Within one patient (patient=, subject=) an exact token clause drives, narrowed to that
    patient by tokens.patient (index tokens_search): the candidates are then the patient's
    matches of the code, not the patient's whole history, which grows with every measurement."""
    ordered = sorted(clauses, key=lambda c: c.rank)
    patient = next((c.patient for c in ordered if c.patient is not None), None)
    scoped = next((c for c in ordered if c.exact), None) if patient is not None else None
    if scoped is not None:
        # The driving rows are that patient's own: the clause naming the patient holds for every
        # candidate, and checking it again would cost a lookup per match.
        ordered = [scoped] + [c for c in ordered if c is not scoped and c.patient != patient]
    out = []
    for position, clause in enumerate(ordered):
        alias = clause.table[-1]
        if position == 0 and clause is scoped:
            out.append((f"r.id IN (SELECT t.id FROM tokens t WHERE t.tenant=? AND t.patient=? AND t.type=? "
                        f"AND {clause.condition})", [tenant, patient, rtype, *clause.args]))
        elif position == 0:
            out.append((f"r.id IN (SELECT {alias}.id FROM {clause.table} WHERE {alias}.tenant=? AND {alias}.type=? "
                        f"AND {clause.condition})", [tenant, rtype, *clause.args]))
        else:
            out.append((f"EXISTS (SELECT 1 FROM {clause.table} WHERE {owned_by_r(alias)} AND {clause.condition})",
                        list(clause.args)))
    return out


SQL_INTEGER_MAX = 2**63 - 1


def non_negative_int(value: str) -> int | None:
    """A query parameter as a non-negative integer the database can hold; None if it is not one
    (str.isdigit alone lets '²' and 20-digit numbers through, which SQL cannot take)."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= SQL_INTEGER_MAX else None


def _result_param(search: Search, rtype: str, name: str, values: list[str], page_limit: int) -> None:
    query, value = search.query, values[-1]
    if name == "_count":
        count = non_negative_int(value)
        if count is None:
            raise _bad(name, f"_count must be a non-negative integer, not {value!r}.", "Use e.g. _count=50.")
        query.count = min(count, page_limit, MAX_COUNT)
    elif name == "_offset":
        offset = non_negative_int(value)
        if offset is None:
            raise _bad(name, f"_offset must be a non-negative integer below 2^63, not {value!r}.",
                       "Follow the Bundle's next link instead of building paging URLs.")
        query.offset = offset
    elif name == "_sort":
        query.order = _order(rtype, value)
    elif name == "_include":
        for v in values:
            search.includes.append(_include(rtype, v, "_include"))
    elif name == "_revinclude":
        for v in values:
            search.revincludes.append(_revinclude(v))
    elif name == "_summary":
        if value not in ("count", "false"):
            raise _bad(name, f"_summary={value} is not supported.", "Use _summary=count, or leave it out.")
        search.summary_count = value == "count"


def _order(rtype: str, value: str) -> str:
    terms = []
    for key in filter(None, value.split(",")):
        descending, name = key.startswith("-"), key.lstrip("-")
        direction = "DESC" if descending else "ASC"
        if name == "_id":
            terms.append(f"r.id {direction}")
        elif name == "_lastUpdated":
            terms.append(f"r.updated_epoch {direction}")
        elif name in registry()[rtype].params and registry()[rtype].params[name].type == "date":
            # Sort by the start of the element's range; the name was checked against the registry,
            # so it is safe in SQL.
            terms.append(f"(SELECT MIN(d.lo) FROM dates d WHERE {owned_by_r('d')} AND d.param='{name}') {direction}")
        else:
            dates = [p.name for p in registry()[rtype].params.values() if p.type == "date"]
            raise _bad("_sort", f"Cannot sort {rtype} by '{name}'.",
                       f"Sort by _id, _lastUpdated{''.join(', ' + d for d in dates)} (prefix '-' for descending).")
    return ", ".join(terms + ["r.id"])


def _include(rtype: str, value: str, what: str) -> tuple[str, str]:
    source, _, rest = value.partition(":")
    param = rest.split(":")[0]
    info = registry().get(source)
    if source != rtype or info is None or param not in info.params or info.params[param].type != "reference":
        refs = [f"{rtype}:{p.name}" for p in registry()[rtype].params.values() if p.type == "reference"]
        raise _bad(what, f"Cannot {what} '{value}'.", f"Use one of: {', '.join(refs) or 'none for ' + rtype}.")
    return source, param


def _revinclude(value: str) -> tuple[str, str]:
    source, _, rest = value.partition(":")
    param = rest.split(":")[0]
    info = registry().get(source)
    if info is None or param not in info.params or info.params[param].type != "reference":
        raise _bad("_revinclude", f"Cannot _revinclude '{value}'.",
                   "Name a resource type and one of its reference parameters, e.g. "
                   "_revinclude=Provenance:target or _revinclude=EpisodeOfCare:patient.")
    return source, param


def _clause(param: SearchParam, value: str, key: str) -> _IndexClause:
    if param.type == "date":
        return _date_clause(param.name, value, key)
    options, args = [], []
    for one in value.split(","):
        if param.type == "token":
            if "|" in one:
                system, _, code = one.partition("|")
                if system and code:
                    options.append("(t.system=? AND t.value=?)")
                    args += [system, code]
                elif code:                      # |code: a code without a system
                    options.append("(t.system IS NULL AND t.value=?)")
                    args.append(code)
                elif system:                    # system|: any code in the system
                    options.append("t.system=?")
                    args.append(system)
            elif one:
                options.append("t.value=?")
                args.append(one)
        elif param.type == "reference":
            reference = normalize_reference(one)
            if "/" not in reference:
                target = "Patient" if param.name in ("patient", "subject") else None
                if target is None:
                    raise _bad(key, f"The reference {one!r} has no resource type.",
                               f"Write {key}=<Type>/<id>.")
                reference = f"{target}/{reference}"
            options.append("t.value=?")
            args.append(reference)
        else:                                   # string: case-insensitive prefix
            options.append("t.value LIKE ?")
            args.append(one.lower().replace("%", "").replace("_", "") + "%")
    if not options:
        raise _bad(key, f"The parameter {key} has no value.", f"Give a value, e.g. {key}=system|code.")
    exact = param.type == "token" and len(options) == 1 and "t.value=?" in options[0]
    return _IndexClause(0 if param.type == "reference" else 1, "tokens t",
                        f"t.param=? AND ({' OR '.join(options)})", [param.name, *args], exact=exact)


def _parse_date(value: str, key: str) -> tuple[str, float, float]:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    found = date_range(text)
    if found is None:
        raise _bad(key, f"{value!r} is not a FHIR date.",
                   f"Use an optional prefix ({', '.join(DATE_PREFIXES)}) and a date such as 2025-03-01 or "
                   f"2025-03-01T12:00:00Z, e.g. {key}=ge2025-03-01.")
    return prefix, *found


_RANGE_SQL = {
    "eq": ("lo>=? AND hi<=?", "lh"), "ne": ("NOT (lo>=? AND hi<=?)", "lh"),
    "gt": ("hi>?", "h"), "lt": ("lo<?", "l"), "ge": ("hi>?", "l"), "le": ("lo<?", "h"),
    "sa": ("lo>=?", "h"), "eb": ("hi<=?", "l"), "ap": ("lo<? AND hi>?", "hl"),
}


def _range_args(kind: str, lo: float, hi: float) -> list[float]:
    return [lo if c == "l" else hi for c in kind]


def _date_clause(name: str, value: str, key: str) -> _IndexClause:
    prefix, lo, hi = _parse_date(value, key)
    cond, kind = _RANGE_SQL[prefix]
    cond = cond.replace("lo", "d.lo").replace("hi", "d.hi")
    return _IndexClause(2, "dates d", f"d.param=? AND {cond}", [name, *_range_args(kind, lo, hi)])


def _date_clause_point(value: str) -> tuple[str, list]:
    prefix, lo, hi = _parse_date(value, "_lastUpdated")
    cond, kind = _RANGE_SQL[prefix]
    point = cond.replace("lo", "r.updated_epoch").replace("hi", "r.updated_epoch")
    return f"({point})", _range_args(kind, lo, hi)


def _bad(expression: str, message: str, fix: str) -> FhirError:
    return FhirError(400, Issue("error", "not-supported" if "Unknown" in message or "Cannot" in message
                                else "invalid", message, expression=expression, rule="sk-platform-search", fix=fix))
