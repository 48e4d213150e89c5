#!/usr/bin/env python3
"""Generate penalty decisions for the sanction benchmarks.

    gen.py --decisions N --years Y [--end YYYY-MM-DD] [--seed S]
           [--rules DIR] [--minimal] --out FILE

Writes FILE (JSONL, in time order): for every decision a case of its own
with case.accepted (data.offence_at), person.added (birth date, flags,
first_offence), penalty.decided and, for a third of the detentions,
detention.executed. With --minimal only penalty.decided is written (the
offence time is then the decision time).

The N decisions are spread evenly over the Y years that end at --end
(default 2027-01-01, so that one year is all 2026, under the 2025 law).
Values are drawn from the discretion table in force at each offence
(rules/discretion/*.yaml, read here, so the benchmark follows the tables),
mostly lawful and clustered on a few usual amounts per (cause, tier), with
a few percent out of range, heavier factors under a lower tier, minors and
exempt persons, so that every sanction rule has something to find. The
same arguments give the same bytes.
"""
import argparse
import datetime as dt
import glob
import json
import os
import random
import sys

import yaml

TZ = dt.timezone(dt.timedelta(hours=8))
CAUSES = [("PSAL-51", 35), ("PSAL-58", 30), ("PSAL-59", 10), ("PSAL-50", 15), ("PSAL-30", 10)]
TIERS = [("lighter", 20), ("normal", 65), ("heavier", 15)]
PREFIXES = ["37%02d" % i for i in range(1, 21)]     # 20 unit prefixes, 50 units each


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for v, w in weighted:
        x -= w
        if x <= 0:
            return v
    return weighted[-1][0]


def load_tables(rules):
    """[(from_date, to_date, {code: row})] with aliases resolved to rows."""
    out = []
    for path in sorted(glob.glob(os.path.join(rules, "discretion", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        eff = doc.get("effective") or {}
        lo = eff.get("from", dt.date(1900, 1, 1))
        hi = eff.get("to", dt.date(2999, 12, 31))
        codes = {}
        for code, row in doc["causes"].items():
            tiers = row["tiers"]
            resolved = {t: (tiers[tiers[t]["same_as"]] if "same_as" in tiers[t] else tiers[t]) for t in tiers}
            entry = {"code": code, "tiers": resolved, "heavier": row.get("heavier_factors") or []}
            codes[code] = entry
            for a in row.get("aliases") or []:
                codes[a] = entry
        out.append((lo, hi, codes, list(doc["factors"]["mitigating"])))
    return out


def table_at(tables, day):
    for lo, hi, codes, mitig in tables:
        if lo <= day <= hi:
            return codes, mitig
    return {}, []


def usual(rng, lo, hi, step):
    """One of a few usual amounts in [lo, hi] (officers pick round figures)."""
    lo2 = max(lo, step)
    vals = list(range(((lo2 + step - 1) // step) * step, hi + 1, step)) or [max(lo, 1)]
    # favour the low and middle part of the range, as practice does
    weights = [len(vals) - i // 2 for i in range(len(vals))]
    return rng.choices(vals, weights)[0]


def draw(rng, tier):
    """(days, fine, warning) within the tier."""
    d, f = tier.get("detention"), tier.get("fine")
    comb = tier.get("combine")
    if tier.get("warning") and rng.random() < 0.3:
        return 0, 0, True
    days = fine = 0
    if d and f:
        if comb == "and":
            days, fine = usual(rng, d[0], d[1], 1), usual(rng, f[0], f[1], 100)
        elif comb == "or":
            if rng.random() < 0.5:
                days = usual(rng, d[0], d[1], 1)
            else:
                fine = usual(rng, f[0], f[1], 100)
        else:
            days = usual(rng, d[0], d[1], 1)
            if rng.random() < 0.5:
                fine = usual(rng, f[0], f[1], 100)
    elif d:
        days = usual(rng, d[0], d[1], 1)
    elif f:
        fine = usual(rng, f[0], f[1], 50)
    return days, fine, False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--decisions", type=int, required=True)
    ap.add_argument("--years", type=float, required=True)
    ap.add_argument("--end", default="2027-01-01")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", default=os.path.join(os.path.dirname(__file__), "..", "..", "rules"))
    ap.add_argument("--minimal", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    tables = load_tables(a.rules)
    end = dt.datetime.fromisoformat(a.end).replace(tzinfo=TZ)
    span = a.years * 365.25 * 86400
    start = end - dt.timedelta(seconds=span)
    step = span / a.decisions
    n_out = n_tier = n_minor = n_exempt = 0

    def iso(t):
        return t.strftime("%Y-%m-%dT%H:%M:%S+08:00")

    with open(a.out, "w", encoding="utf-8") as out:
        for i in range(a.decisions):
            at = start + dt.timedelta(seconds=int(i * step + rng.uniform(0, step)))
            offence = at - dt.timedelta(seconds=rng.randint(86400, 40 * 86400))
            accepted = offence + dt.timedelta(seconds=rng.randint(600, 86400))
            if accepted >= at:
                accepted = at - dt.timedelta(seconds=60)
            codes, mitig = table_at(tables, offence.date())
            cause = pick(rng, CAUSES)
            tier_name = pick(rng, TIERS)
            row = codes.get(cause)
            days, fine, warning = draw(rng, row["tiers"][tier_name]) if row else (0, 500, False)
            if row and rng.random() < 0.02:    # out of range: past the top of the tier
                t = row["tiers"][tier_name]
                if days and t.get("detention"):
                    days = t["detention"][1] + rng.randint(1, 3)
                elif t.get("fine"):
                    fine = t["fine"][1] + rng.choice([50, 100, 500])
                    if t.get("combine") == "or":
                        days = 0
                    elif t.get("combine") in ("and", "optional") and not days:
                        days = t["detention"][0] or 1
                    warning = False
                n_out += 1
            factors = []
            if row and row["heavier"]:
                if tier_name == "heavier":
                    factors.append(rng.choice(row["heavier"]))
                elif rng.random() < 0.04:
                    factors.append(rng.choice(row["heavier"]))
                    if rng.random() < 0.5:
                        factors.append(rng.choice(mitig))
                    else:
                        n_tier += 1
            elif rng.random() < 0.05 and mitig:
                factors.append(rng.choice(mitig))
            unit = rng.choice(PREFIXES) + "%02d" % rng.randint(1, 50)
            case = "A%s%08d" % (unit, i)
            # the person: mostly adults; some minors, elderly, pregnant
            p = rng.random()
            flags, first = [], rng.random() < 0.6
            if p < 0.005:
                age_days = rng.randint(12 * 365, 14 * 365 - 1)
                n_minor += 1
            elif p < 0.02:
                age_days = rng.randint(14 * 365 + 4, 18 * 365 - 4)
            elif p < 0.03:
                age_days = rng.randint(70 * 365 + 20, 80 * 365)
            else:
                age_days = rng.randint(18 * 365 + 10, 65 * 365)
            if rng.random() < 0.004:
                flags.append(rng.choice(["pregnant", "nursing_infant"]))
            birth = (offence - dt.timedelta(days=age_days)).date().isoformat()
            base = {"case": case, "unit": unit}
            dec = dict(base, id="d%d" % i, type="penalty.decided", at=iso(at),
                       data={"person": "P1", "cause": cause, "circumstance": tier_name})
            if factors:
                dec["data"]["factors"] = factors
            if fine:
                dec["data"]["fine"] = fine
            if days:
                dec["data"]["detention_days"] = days
            if warning:
                dec["data"]["warning"] = True
            if not a.minimal:
                out.write(json.dumps(dict(base, id="c%d" % i, type="case.accepted", at=iso(accepted),
                                          data={"kind": "administrative", "cause": cause,
                                                "offence_at": iso(offence)}),
                                     ensure_ascii=False, separators=(",", ":")) + "\n")
                pd = {"person": "P1", "role": "suspect", "birth_date": birth, "first_offence": first}
                if flags:
                    pd["flags"] = flags
                out.write(json.dumps(dict(base, id="p%d" % i, type="person.added",
                                          at=iso(accepted + dt.timedelta(seconds=30)), data=pd),
                                     separators=(",", ":")) + "\n")
            out.write(json.dumps(dec, ensure_ascii=False, separators=(",", ":")) + "\n")
            if days and not a.minimal and rng.random() < 0.33:
                if flags or age_days < 18 * 365 or age_days >= 70 * 365:
                    n_exempt += 1
                ex = dict(base, id="x%d" % i, type="detention.executed",
                          at=iso(at + dt.timedelta(hours=2)), data={"person": "P1", "days": days})
                out.write(json.dumps(ex, separators=(",", ":")) + "\n")
    print("gen: %d decisions over %.1f years to %s: %d out of range, %d heavier factor under "
          "a lower tier, %d under 14, %d executions of possibly exempt persons -> %s"
          % (a.decisions, a.years, a.end, n_out, n_tier, n_minor, n_exempt, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
