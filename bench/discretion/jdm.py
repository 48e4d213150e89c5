#!/usr/bin/env python3
"""Express a discretion table (rules/discretion/*.yaml) as a GoRules JDM
decision table, for the zen-engine comparison (zen.js).

    jdm.py [TABLE.yaml] > psal-2025.jdm.json

Inputs: cause, tier, days, fine, warning; output: ok (true when the
penalty is within the tier's range). Hit policy "first", rows in this
order: a warning alone where the tier allows it; no penalty at all (out);
then the lawful shapes of each (cause, tier), from docs/SANCTIONS.md:
and = both, each in range; or = exactly one, in range; optional =
detention in range with no fine or a fine in range; and a last row that
says out. Ranges are inclusive, as in casewarden.
"""
import json
import os
import sys

import yaml


def rng(r, positive):
    lo, hi = r
    if positive:
        lo = max(lo, 1)
    return "[%d..%d]" % (lo, hi)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "rules", "discretion", "psal-2025.yaml")
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    cols = ["cause", "tier", "days", "fine", "warning"]
    inputs = [{"id": "in_" + c, "name": c, "type": "expression", "field": c} for c in cols]
    outputs = [{"id": "out_ok", "name": "ok", "type": "expression", "field": "ok"}]
    rules = []

    def row(ok, **cells):
        r = {"_id": "r%d" % len(rules)}
        for c in cols:
            r["in_" + c] = cells.get(c, "")
        r["out_ok"] = "true" if ok else "false"
        rules.append(r)

    shapes = []
    for code, cause in doc["causes"].items():
        tiers = cause["tiers"]
        for name, t in tiers.items():
            if "same_as" in t:
                t = tiers[t["same_as"]]
            c, n = json.dumps(code), json.dumps(name)
            if t.get("warning"):
                row(True, cause=c, tier=n, days="0", fine="0", warning="true")
            d, f, comb = t.get("detention"), t.get("fine"), t.get("combine")
            if d and f and comb == "and":
                shapes.append(dict(cause=c, tier=n, days=rng(d, True), fine=rng(f, True)))
            elif d and f and comb == "or":
                shapes.append(dict(cause=c, tier=n, days=rng(d, True), fine="0"))
                shapes.append(dict(cause=c, tier=n, days="0", fine=rng(f, True)))
            elif d and f:
                shapes.append(dict(cause=c, tier=n, days=rng(d, False), fine="0"))
                shapes.append(dict(cause=c, tier=n, days=rng(d, False), fine=rng(f, True)))
            elif d:
                shapes.append(dict(cause=c, tier=n, days=rng(d, True), fine="0"))
            elif f:
                shapes.append(dict(cause=c, tier=n, days="0", fine=rng(f, True)))
    row(False, days="0", fine="0")
    for s in shapes:
        row(True, **s)
    row(False)
    graph = {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "table", "type": "decisionTableNode", "name": doc.get("law", "discretion"),
             "position": {"x": 300, "y": 0},
             "content": {"hitPolicy": "first", "inputs": inputs, "outputs": outputs, "rules": rules}},
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"},
        ],
    }
    json.dump(graph, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
