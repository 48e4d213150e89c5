#!/usr/bin/env python3
"""Prepared statements only: no SQL text is ever built from data.

Reads the C sources and reports, as FILE:LINE: what,
  - a MariaDB client call (mysql_*) outside engine/store/db.c, or any
    escaping function anywhere (escaping means text built from data);
  - SQL text outside engine/store (the one module that speaks SQL);
  - in engine/store, text added to a statement that is not a string
    literal: every argument of cw_buf_puts / cw_buf_printf / cw_dbbatch_init
    into a statement must be a literal, a ternary of literals, a static
    table of literals, or a parameter of a helper whose every call passes
    literals (the helpers are found and their call sites checked);
  - a statement run (cw_db_exec, _query, _scalar, _pquery, _pexec) with
    other SQL than a literal or a buffer built as above.
Exits 1 when anything is reported. Usage: sqlcheck.py TOP"""
import os
import re
import sys

top = sys.argv[1]
problems = []


def report(path, line, what):
    problems.append(f"{os.path.relpath(path, top)}:{line}: {what}")


def sources(*dirs):
    for d in dirs:
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)


def strip_comments(text):
    # keep line numbers: comments become spaces, newlines stay
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)


def calls(text, name):
    """(line, [args]) of each call of name(...), arguments split at top-level commas."""
    for m in re.finditer(r"\b" + re.escape(name) + r"\s*\(", text):
        i, depth, start, args, instr = m.end(), 1, m.end(), [], None
        while i < len(text) and depth:
            c = text[i]
            if instr:
                if c == "\\":
                    i += 1
                elif c == instr:
                    instr = None
            elif c in "\"'":
                instr = c
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    args.append(text[start:i].strip())
                    end = i + 1
            elif c == "," and depth == 1:
                args.append(text[start:i].strip())
                start = i + 1
            i += 1
        after = text[end:end + 40].lstrip() if depth == 0 else ""
        typed = any(re.match(r"^(const\s+)?(char|unsigned|int|size_t|bool|void|cw_\w+)\b[\s*]+\w+$", a) for a in args)
        if after.startswith("{") or typed:
            continue     # a definition or a declaration, not a call
        yield text.count("\n", 0, m.start()) + 1, args


LIT = r'(?:[A-Z_][A-Z0-9_]*(?:\("(?:[^"\\]|\\.)*"\))?|"(?:[^"\\]|\\.)*")'
LITERAL = re.compile(r"^(?:" + LIT + r"\s*)+$")
TERNARY = re.compile(r"^[^?\"]+\?\s*(?:" + LIT + r"\s*)+:\s*(?:" + LIT + r"\s*)+$", re.S)
SQL = re.compile(r'"[^"]*\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|REPLACE\s+INTO)\b', re.I)

# 1. the client library and escaping
for path in sources("engine", "api", "cli", "plugins"):
    text = strip_comments(open(path, encoding="utf-8").read())
    for n, line in enumerate(text.split("\n"), 1):
        if re.search(r"\bmysql_\w*escape\w*\s*\(", line):
            report(path, n, "escaping a value into SQL text (bind it instead)")
        if re.search(r"\bmysql_\w+\s*\(", line) and not path.endswith("engine/store/db.c"):
            report(path, n, "a MariaDB call outside engine/store/db.c")
        if SQL.search(line) and "/engine/store/" not in path:
            report(path, n, "SQL outside engine/store")

# 2. what goes into statements, in engine/store
store = list(sources("engine/store"))
texts = {p: strip_comments(open(p, encoding="utf-8").read()) for p in store}


def static_tables(text):
    """Names of static const arrays of string literals."""
    names = set()
    for m in re.finditer(r"static\s+const\s+char\s*\*\s*const\s+(\w+)\[\]\s*=\s*\{([^}]*)\}", text):
        if all(LITERAL.match(x.strip()) or x.strip() == "NULL" for x in m.group(2).split(",") if x.strip()):
            names.add(m.group(1))
    return names


def literal_returns(text):
    """Functions whose every return is a literal."""
    names = set()
    for m in re.finditer(r"static\s+const\s+char\s*\*\s*(\w+)\s*\([^)]*\)\s*\{(.*?)\n\}", text, re.S):
        rets = re.findall(r"\breturn\s+([^;]+);", m.group(2))
        if rets and all(LITERAL.match(r.strip()) for r in rets):
            names.add(m.group(1))
    return names


def function_of(text, line):
    """The name and parameters of the function holding line."""
    head = "\n".join(text.split("\n")[:line])
    # a definition starts at the line's start (statements are indented)
    ms = list(re.finditer(r"^[A-Za-z_][\w \t\*]*?\b(\w+)\s*\(([^;{]*?)\)\s*\{", head, re.M))
    if not ms:
        return None, []
    params = [re.findall(r"(\w+)\s*$", p.strip())[0] for p in ms[-1].group(2).split(",") if re.findall(r"(\w+)\s*$", p.strip())]
    return ms[-1].group(1), params


def var_from(text, line, var, ok):
    """Whether local var is set, in the function holding line, only from what ok accepts."""
    body = "\n".join(text.split("\n")[:line])
    sets = re.findall(r"\b" + re.escape(var) + r"\s*=\s*([^;,]+)[;,]", body[body.rfind("\n{"):] if "\n{" in body else body)
    return bool(sets) and all(ok(s.strip()) for s in sets)


checked = {"cw_dbbatch_init": {1, 2, 4}}   # helper function -> indexes of params that must get literals

# Text that is not a literal but is no data either, each with why.
EXCEPTIONS = {
    ("engine/store/db.c", "c->name"): "the configured database's name, in backquotes, refused when it has one",
    ("engine/store/db.c", "b->head"): "cw_dbbatch_init's head, whose callers are checked",
    ("engine/store/db.c", "b->row"): "cw_dbbatch_init's row, whose callers are checked",
    ("engine/store/db.c", "b->tail"): "cw_dbbatch_init's tail, whose callers are checked",
    ("engine/store/schema.c", "*s"): "a migration's statements: static tables of literals",
}
used = set()


def accept(path, text, line, arg, tables, lret):
    arg = arg.strip()
    key = (os.path.relpath(path, top), arg)
    if key in EXCEPTIONS:
        used.add(key)
        return True
    if LITERAL.match(arg) or TERNARY.match(arg) or re.match(r"^[0-9]+$", arg):
        return True
    m = re.match(r"^(\w+)\[\w+\]$", arg)
    if m and m.group(1) in tables:
        return True
    fn, params = function_of(text, line)
    if arg in params:
        checked.setdefault(fn, set()).add(params.index(arg))
        return True
    if re.match(r"^\w+$", arg) and var_from(text, line, arg, lambda s: LITERAL.match(s) or
                                            re.match(r"^(\w+)\s*\(", s) and re.match(r"^(\w+)", s).group(1) in lret):
        return True
    return False


builders = {"cw_buf_puts": (1, None), "cw_buf_printf": (1, None)}
for path, text in texts.items():
    tables, lret = static_tables(text), literal_returns(text)
    for name, (first, last) in builders.items():
        for line, args in calls(text, name):
            if name != "cw_dbbatch_init" and not re.search(r"sql|\bq\b|&q\b|\bb\b", args[0]):
                continue
            for a in args[first:last]:
                if not accept(path, text, line, a, tables, lret):
                    report(path, line, f"{name}: '{a[:60]}' is not a literal: SQL text from data?")
    for name in ("cw_buf_put",):
        for line, args in calls(text, name):
            if re.search(r"sql|\bq\b", args[0]) and not LITERAL.match(args[1]):
                report(path, line, f"{name}: '{args[1][:60]}' is not a literal")
    for name in ("cw_db_exec", "cw_db_execn", "cw_db_query", "cw_db_scalar", "cw_db_pquery", "cw_db_pexec"):
        for line, args in calls(text, name):
            if len(args) < 2:
                continue
            sql = args[1]
            if (os.path.relpath(path, top), sql) in EXCEPTIONS:
                used.add((os.path.relpath(path, top), sql))
                continue
            if LITERAL.match(sql) or TERNARY.match(sql) or re.match(r"^(\w+\.)?(sql|q|b)\.p$", sql) or \
                    re.match(r"^\w+$", sql) and sql in function_of(text, line)[1]:
                if re.match(r"^\w+$", sql):
                    checked.setdefault(function_of(text, line)[0], set()).add(function_of(text, line)[1].index(sql))
                continue
            report(path, line, f"{name}: the statement '{sql[:60]}' is not a literal or a built statement")

# 3. helpers whose parameters went into statements: every call passes literals
for rounds in range(3):
    for path, text in texts.items():
        tables, lret = static_tables(text), literal_returns(text)
        for fn, idx in list(checked.items()):
            for line, args in calls(text, fn):
                for i in idx:
                    if i < len(args) and not accept(path, text, line, args[i], tables, lret):
                        report(path, line, f"{fn}: argument {i + 1} '{args[i][:60]}' goes into SQL and is not a literal")

# the store's interface (store.h) takes data: a helper whose parameter goes
# into SQL must be internal to the store (static, or in db.h / rows.h)
internal = open(os.path.join(top, "engine/store/db.h")).read() + open(os.path.join(top, "engine/store/rows.h")).read()
for fn in checked:
    for path, text in texts.items():
        m = re.search(r"^(static[ \t]+)?[\w \t\*]*?\b" + re.escape(fn) + r"\s*\([^;]*?\)\s*\{", text, re.M)
        if m and not m.group(1) and not re.search(r"\b" + re.escape(fn) + r"\s*\(", internal):
            report(path, text.count("\n", 0, m.start()) + 1,
                   f"{fn} is the store's interface and puts its argument into SQL")

for key in sorted(set(EXCEPTIONS) - used):
    problems.append(f"{key[0]}: the exception for '{key[1]}' is no longer needed: remove it")
for p in sorted(set(problems)):
    print(p)
print(f"checked {len(store)} files of engine/store, {len(checked)} helpers; {len(set(problems))} problems")
sys.exit(1 if problems else 0)
