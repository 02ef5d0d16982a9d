"""A small FHIRPath compiler for the subset invariants use, into plain Python closures.

fhirpathpy evaluates the core's and the guide's invariants correctly but takes about a
millisecond each, which would cap validation at a few hundred resources per second. This module
reuses fhirpathpy's parser (so the grammar is the same) and compiles the parse tree into closures
over JSON values: member navigation (with choice types: `value.ofType(Quantity)` reads
valueQuantity), boolean three-valued logic, equality and comparison, and the functions listed in
_FUNCTIONS. Anything else raises Unsupported at compile time, and the invariant falls back to
fhirpathpy; tests/validator/test_fastpath.py checks both engines agree.
"""
from __future__ import annotations

import re
from collections.abc import Callable

Fn = Callable[[list, dict], list]


class Unsupported(Exception):
    """The expression uses something this compiler does not implement."""


def compile_fhirpath(expression: str) -> Fn:
    from fhirpathpy.parser import parse
    tree = parse(expression)
    return _compile(tree["children"][0])


# -- helpers ------------------------------------------------------------------------------------

def _kids(node: dict) -> list[dict]:
    return node.get("children", [])


def _text(node: dict) -> list[str]:
    return node.get("terminalNodeText", [])


def _ident(node: dict) -> str:
    name = _text(node)[0]
    return name[1:-1] if name.startswith("`") else name


def _navigate(items: list, name: str) -> list:
    out: list = []
    for item in items:
        if not isinstance(item, dict):
            continue
        value = item.get(name)
        if value is None:
            if item.get("resourceType") == name:
                out.append(item)
                continue
            n = len(name)
            for key, v in item.items():  # a choice element: value -> valueQuantity, valueString, ...
                if len(key) > n and key.startswith(name) and key[n].isupper():
                    value = v
                    break
            if value is None:
                continue
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


def _typed_key(name: str, type_name: str) -> str:
    return name + type_name[0].upper() + type_name[1:]


def _single_bool(items: list) -> bool | None:
    if not items:
        return None
    if len(items) > 1:
        raise Unsupported("a boolean operator on a collection")
    value = items[0]
    return value if isinstance(value, bool) else True


def _as_list(value: bool | None) -> list:
    return [] if value is None else [value]


def _equal(a: list, b: list) -> list:
    if not a or not b:
        return []
    if len(a) != len(b):
        return [False]
    return [all(_eq(x, y) for x, y in zip(a, b))]


def _eq(x, y) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    return x == y


def _compare(op: str, a: list, b: list) -> list:
    if not a or not b:
        return []
    if len(a) > 1 or len(b) > 1:
        raise Unsupported("comparison of collections")
    x, y = a[0], b[0]
    if isinstance(x, bool) or isinstance(y, bool) or type(x) is not type(y) and not (
            isinstance(x, (int, float)) and isinstance(y, (int, float))):
        raise Unsupported("comparison of mixed types")
    if isinstance(x, str) and x[:1].isdigit() and y[:1].isdigit() and len(x) != len(y) and ("-" in x or ":" in x):
        raise Unsupported("comparison of dates with different precision")
    return [{"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]]


# -- the compiler -------------------------------------------------------------------------------

def _compile(node: dict) -> Fn:
    kind = node["type"]
    handler = _NODES.get(kind)
    if handler is None:
        raise Unsupported(kind)
    return handler(node)


def _term(node: dict) -> Fn:
    return _compile(_kids(node)[0])


def _invocation_term(node: dict) -> Fn:
    inner = _kids(node)[0]
    return _invocation(inner, None)


def _invocation(node: dict, left: Fn | None) -> Fn:
    """Member, function, $this or $total invocation on `left` (None: on the focus)."""
    kind = node["type"]
    if kind == "MemberInvocation":
        name = _ident(_kids(node)[0])
        if left is None:
            return lambda focus, env: _navigate(focus, name)
        return lambda focus, env: _navigate(left(focus, env), name)
    if kind == "ThisInvocation":
        return lambda focus, env: [env["this"]] if "this" in env else list(focus)
    if kind == "TotalInvocation":
        return lambda focus, env: list(env.get("total", []))
    if kind == "FunctionInvocation":
        functn = _kids(node)[0]
        name = _ident(_kids(functn)[0])
        params = _kids(_kids(functn)[1]) if len(_kids(functn)) > 1 else []
        builder = _FUNCTIONS.get(name)
        if builder is None:
            raise Unsupported(f"function {name}()")
        source = left if left is not None else (lambda focus, env: list(focus))
        return builder(source, params)
    raise Unsupported(kind)


def _invocation_expression(node: dict) -> Fn:
    left_node, right_node = _kids(node)
    # x.ofType(T) / x.as(T) right after a member: read the typed JSON key (valueQuantity).
    if right_node["type"] == "FunctionInvocation":
        functn = _kids(right_node)[0]
        fname = _ident(_kids(functn)[0])
        if fname in ("ofType", "as"):
            member = _last_member(left_node)
            type_name = _type_param(functn)
            if member is not None:
                owner, name = member
                key = _typed_key(name, type_name)
                if owner is None:
                    return lambda focus, env: _navigate(focus, key)
                return lambda focus, env: _navigate(owner(focus, env), key)
            raise Unsupported("ofType() not right after a member")
    left = _compile(left_node)
    return _invocation(right_node, left)


def _last_member(node: dict) -> tuple[Fn | None, str] | None:
    """If node ends in a member invocation, (what it is invoked on, member name)."""
    if node["type"] == "TermExpression":
        term = _kids(node)[0]
        if term["type"] == "InvocationTerm" and _kids(term)[0]["type"] == "MemberInvocation":
            return None, _ident(_kids(_kids(term)[0])[0])
        return None
    if node["type"] == "InvocationExpression":
        left, right = _kids(node)
        if right["type"] == "MemberInvocation":
            return _compile(left), _ident(_kids(right)[0])
    return None


def _type_param(functn: dict) -> str:
    params = _kids(_kids(functn)[1]) if len(_kids(functn)) > 1 else []
    if len(params) != 1:
        raise Unsupported("ofType() needs one type")
    member = _last_member(params[0])
    if member is None or member[0] is not None:
        raise Unsupported("ofType() with a qualified type")
    return member[1].removeprefix("FHIR.").removeprefix("System.")


def _literal(node: dict) -> Fn:
    lit = _kids(node)[0]
    kind, text = lit["type"], _text(lit)
    if kind == "StringLiteral":
        value = _unescape(text[0][1:-1])
    elif kind == "NumberLiteral":
        value = float(text[0]) if "." in text[0] else int(text[0])
    elif kind == "BooleanLiteral":
        value = text[0] == "true"
    elif kind == "NullLiteral":
        return lambda focus, env: []
    else:
        raise Unsupported(kind)
    return lambda focus, env: [value]


_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _external(node: dict) -> Fn:
    const = _kids(_kids(node)[0])[0]
    name = _ident(const) if const["type"] == "Identifier" else None
    if name in ("resource", "rootResource", "context"):
        return lambda focus, env: [env[name]]
    if name == "ucum":
        return lambda focus, env: ["http://unitsofmeasure.org"]
    raise Unsupported(f"%{name}")


def _binary(node: dict) -> tuple[Fn, Fn, str]:
    a, b = _kids(node)
    return _compile(a), _compile(b), _text(node)[0]


def _equality(node: dict) -> Fn:
    a, b, op = _binary(node)
    if op == "=":
        return lambda focus, env: _equal(a(focus, env), b(focus, env))
    if op == "!=":
        def ne(focus, env):
            r = _equal(a(focus, env), b(focus, env))
            return [not r[0]] if r else []
        return ne
    raise Unsupported(op)  # ~ and !~ (equivalence)


def _inequality(node: dict) -> Fn:
    a, b, op = _binary(node)
    return lambda focus, env: _compare(op, a(focus, env), b(focus, env))


def _and(node: dict) -> Fn:
    a, b, _ = _binary(node)

    def run(focus, env):
        x = _single_bool(a(focus, env))
        if x is False:
            return [False]
        y = _single_bool(b(focus, env))
        if y is False:
            return [False]
        return [True] if x and y else []
    return run


def _or(node: dict) -> Fn:
    a, b, op = _binary(node)
    if op == "xor":
        def xor(focus, env):
            x, y = _single_bool(a(focus, env)), _single_bool(b(focus, env))
            return [] if x is None or y is None else [x != y]
        return xor

    def run(focus, env):
        x = _single_bool(a(focus, env))
        if x is True:
            return [True]
        y = _single_bool(b(focus, env))
        if y is True:
            return [True]
        return [False] if x is False and y is False else []
    return run


def _implies(node: dict) -> Fn:
    a, b, _ = _binary(node)

    def run(focus, env):
        x = _single_bool(a(focus, env))
        if x is False:
            return [True]
        y = _single_bool(b(focus, env))
        if x is True:
            return _as_list(y)
        return [True] if y is True else []
    return run


def _union(node: dict) -> Fn:
    a, b, _ = _binary(node)

    def run(focus, env):
        out: list = []
        for v in a(focus, env) + b(focus, env):
            if not any(_eq(v, o) for o in out):
                out.append(v)
        return out
    return run


def _membership(node: dict) -> Fn:
    a, b, op = _binary(node)

    def run(focus, env):
        x, y = a(focus, env), b(focus, env)
        if op == "contains":
            x, y = y, x
        if not x:
            return []
        if len(x) > 1:
            raise Unsupported("membership of a collection")
        return [any(_eq(x[0], v) for v in y)]
    return run


def _additive(node: dict) -> Fn:
    a, b, op = _binary(node)

    def run(focus, env):
        x, y = a(focus, env), b(focus, env)
        if op == "&":
            return ["".join(str(v[0]) if v else "" for v in (x, y))]
        if not x or not y:
            return []
        p, q = x[0], y[0]
        if isinstance(p, bool) or isinstance(q, bool):
            raise Unsupported("arithmetic on booleans")
        if op == "+":
            if isinstance(p, str) != isinstance(q, str):
                raise Unsupported("mixed addition")
            return [p + q]
        if isinstance(p, str) or isinstance(q, str):
            raise Unsupported("string subtraction")
        return [p - q]
    return run


def _polarity(node: dict) -> Fn:
    inner = _compile(_kids(node)[0])
    sign = -1 if _text(node)[0] == "-" else 1
    return lambda focus, env: [sign * v for v in inner(focus, env)]


def _type_expression(node: dict) -> Fn:
    left_node, spec = _kids(node)
    member = _last_member(left_node)
    if member is None:
        raise Unsupported("is/as not on a member")
    type_name = _ident(_kids(_kids(spec)[0])[-1])
    owner, name = member
    key = _typed_key(name, type_name)

    def nav(focus, env):
        return _navigate(owner(focus, env) if owner else focus, key)
    if _text(node)[0] == "is":
        return lambda focus, env: [True] if nav(focus, env) else ([False] if _navigate(
            owner(focus, env) if owner else focus, name) else [])
    return nav


def _indexer(node: dict) -> Fn:
    a, b = (_compile(k) for k in _kids(node))

    def run(focus, env):
        items, index = a(focus, env), b(focus, env)
        i = index[0] if index else None
        return [items[i]] if isinstance(i, int) and 0 <= i < len(items) else []
    return run


def _parenthesized(node: dict) -> Fn:
    return _compile(_kids(node)[0])


# -- functions ----------------------------------------------------------------------------------

def _lambda(source: Fn, params: list, body: Callable) -> Fn:
    crit = _compile(params[0]) if params else None
    return lambda focus, env: body(source(focus, env), crit, env)


def _each(items: list, crit: Fn, env: dict):
    for item in items:
        yield item, crit([item], {**env, "this": item})


def _where(items, crit, env):
    return [item for item, r in _each(items, crit, env) if _single_bool(r) is True]


def _exists(items, crit, env):
    return [bool(_where(items, crit, env))] if crit else [bool(items)]


def _all(items, crit, env):
    return [all(_single_bool(r) is True for _i, r in _each(items, crit, env))]


def _select(items, crit, env):
    out: list = []
    for _item, r in _each(items, crit, env):
        out.extend(r)
    return out


def _simple(fn: Callable[[list], list]) -> Callable:
    def build(source: Fn, params: list) -> Fn:
        if params:
            raise Unsupported("unexpected arguments")
        return lambda focus, env: fn(source(focus, env))
    return build


def _with_args(fn: Callable) -> Callable:
    def build(source: Fn, params: list) -> Fn:
        args = [_compile(p) for p in params]

        def run(focus, env):
            items = source(focus, env)
            return fn(items, *[a(focus, env) for a in args])
        return run
    return build


def _string_fn(fn: Callable) -> Callable:
    def wrapped(items, *args):
        if not items:
            return []
        if len(items) > 1 or not isinstance(items[0], str):
            raise Unsupported("string function on a non-string")
        values = [a[0] if a else None for a in args]
        if any(v is None for v in values):
            return []
        return [fn(items[0], *values)]
    return _with_args(wrapped)


def _not(items: list) -> list:
    b = _single_bool(items)
    return [] if b is None else [not b]


def _to_string(items: list) -> list:
    if not items:
        return []
    v = items[0]
    if isinstance(v, bool):
        return ["true" if v else "false"]
    if isinstance(v, (int, float, str)):
        return [str(v)]
    raise Unsupported("toString() of a complex value")


def _substring(text: str, start: int, length: int | None = None) -> str:
    if start < 0 or start >= len(text):
        return None
    return text[start:] if length is None else text[start:start + length]


def _substring_fn(source: Fn, params: list) -> Fn:
    args = [_compile(p) for p in params]

    def run(focus, env):
        items = source(focus, env)
        if not items:
            return []
        if len(items) > 1 or not isinstance(items[0], str):
            raise Unsupported("substring() on a non-string")
        values = [a(focus, env) for a in args]
        start = values[0][0] if values[0] else None
        length = values[1][0] if len(values) > 1 and values[1] else None
        if start is None:
            return []
        result = _substring(items[0], start, length)
        return [] if result is None else [result]
    return run


def _aggregate(source: Fn, params: list) -> Fn:
    body = _compile(params[0])
    init = _compile(params[1]) if len(params) > 1 else None

    def run(focus, env):
        total = init(focus, env) if init else []
        for item in source(focus, env):
            total = body([item], {**env, "this": item, "total": total})
        return total
    return run


def _intersect(items: list, other: list) -> list:
    out: list = []
    for v in items:
        if any(_eq(v, o) for o in other) and not any(_eq(v, o) for o in out):
            out.append(v)
    return out


def _distinct(items: list) -> list:
    out: list = []
    for v in items:
        if not any(_eq(v, o) for o in out):
            out.append(v)
    return out


def _iif(source: Fn, params: list) -> Fn:
    cond, yes = _compile(params[0]), _compile(params[1])
    no = _compile(params[2]) if len(params) > 2 else (lambda focus, env: [])

    def run(focus, env):
        return yes(focus, env) if _single_bool(cond(focus, env)) is True else no(focus, env)
    return run


def _trace(source: Fn, params: list) -> Fn:
    return source  # trace() only logs


def _has_value(items: list) -> list:
    return [len(items) == 1 and not isinstance(items[0], (dict, list))]


_FUNCTIONS: dict[str, Callable[[Fn, list], Fn]] = {
    "where": lambda s, p: _lambda(s, p, _where),
    "exists": lambda s, p: _lambda(s, p, _exists),
    "all": lambda s, p: _lambda(s, p, _all),
    "select": lambda s, p: _lambda(s, p, _select),
    "empty": _simple(lambda items: [not items]),
    "count": _simple(lambda items: [len(items)]),
    "not": _simple(_not),
    "first": _simple(lambda items: items[:1]),
    "last": _simple(lambda items: items[-1:]),
    "distinct": _simple(_distinct),
    "isDistinct": _simple(lambda items: [len(_distinct(items)) == len(items)]),
    "hasValue": _simple(_has_value),
    "toString": _simple(_to_string),
    "length": _string_fn(len),
    "upper": _string_fn(str.upper),
    "lower": _string_fn(str.lower),
    "matches": _string_fn(lambda s, rx: re.search(rx, s) is not None),
    "startsWith": _string_fn(str.startswith),
    "endsWith": _string_fn(str.endswith),
    "contains": _string_fn(lambda s, part: part in s),
    "substring": _substring_fn,
    "aggregate": _aggregate,
    "intersect": _with_args(_intersect),
    "iif": _iif,
    "trace": _trace,
}

_NODES: dict[str, Callable[[dict], Fn]] = {
    "TermExpression": _term,
    "InvocationTerm": _invocation_term,
    "InvocationExpression": _invocation_expression,
    "LiteralTerm": _literal,
    "ExternalConstantTerm": _external,
    "ParenthesizedTerm": _parenthesized,
    "EqualityExpression": _equality,
    "InequalityExpression": _inequality,
    "AndExpression": _and,
    "OrExpression": _or,
    "ImpliesExpression": _implies,
    "UnionExpression": _union,
    "MembershipExpression": _membership,
    "AdditiveExpression": _additive,
    "PolarityExpression": _polarity,
    "TypeExpression": _type_expression,
    "IndexerExpression": _indexer,
}
