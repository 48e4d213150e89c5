#!/usr/bin/env node
// The same discretion table, the same decisions: @gorules/zen-engine (a
// well-known decision-table engine, Rust with Node bindings) against
// casewarden's SANCTION-RANGE, decisions per second for both in one run.
//
//   node zen.js --events FILE --casewarden BIN --rules DIR [--jdm FILE] [--concurrency N]
//
// DIR is a rules directory whose only rule is SANCTION-RANGE (run.sh makes
// it). Only decisions for offences from 2026-01-01 are given to zen (its
// table is PSAL 2025, psal-2025.jdm.json from jdm.py); casewarden judges
// every decision of the file with both tables. The run checks that both
// find the same decisions out of range.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ZenEngine } = require('@gorules/zen-engine');

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0) {
    if (dflt === undefined) {
      console.error(`usage: node zen.js --events FILE --casewarden BIN --rules DIR [--jdm FILE] [--concurrency N] (missing --${name})`);
      process.exit(2);
    }
    return dflt;
  }
  return process.argv[i + 1];
}

const NEW_LAW = Date.parse('2026-01-01T00:00:00+08:00') / 1000;

async function main() {
  const events = arg('events');
  const bin = arg('casewarden');
  const rules = arg('rules');
  const jdm = arg('jdm', path.join(__dirname, 'psal-2025.jdm.json'));
  const conc = parseInt(arg('concurrency', '64'), 10);

  // The decisions, with their case's offence time.
  const offence = new Map();
  const inputs = [];
  const cases = [];
  let all = 0;
  for (const line of fs.readFileSync(events, 'utf8').split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line);
    if (ev.type === 'case.accepted') {
      offence.set(ev.case, Date.parse(ev.data.offence_at || ev.at) / 1000);
    } else if (ev.type === 'penalty.decided') {
      all++;
      const t = offence.has(ev.case) ? offence.get(ev.case) : Date.parse(ev.at) / 1000;
      if (t < NEW_LAW) continue;
      inputs.push({
        cause: ev.data.cause,
        tier: ev.data.circumstance,
        days: ev.data.detention_days || 0,
        fine: ev.data.fine || 0,
        warning: ev.data.warning === true,
      });
      cases.push(ev.case);
    }
  }

  const engine = new ZenEngine();
  const decision = engine.createDecision(fs.readFileSync(jdm));
  for (let i = 0; i < Math.min(2000, inputs.length); i++) await decision.evaluate(inputs[i]);

  // One call at a time: the cost of a call.
  let out = 0;
  const bad = new Set();
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < inputs.length; i++) {
    const r = await decision.evaluate(inputs[i]);
    if (!r.result.ok) { out++; bad.add(cases[i]); }
  }
  const seqS = Number(process.hrtime.bigint() - t0) / 1e9;

  // Many calls in flight: the best the engine's thread pool can do.
  t0 = process.hrtime.bigint();
  for (let i = 0; i < inputs.length; i += conc) {
    await Promise.all(inputs.slice(i, i + conc).map((x) => decision.evaluate(x)));
  }
  const parS = Number(process.hrtime.bigint() - t0) / 1e9;
  engine.dispose();

  // casewarden: the same table (and the 2012 one for older offences),
  // every decision of the file.
  const cw = spawnSync(bin, ['eval', '--rules', rules, '--events', events, '--now',
    '2099-01-01T00:00:00+08:00', '--stats', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (cw.status !== 0) {
    console.error(`casewarden eval failed (${cw.status}): ${cw.stderr}`);
    process.exit(1);
  }
  let cwOut = 0;
  for (const line of cw.stdout.split('\n')) {
    if (!line.includes('"rule":"SANCTION-RANGE"')) continue;
    const c = JSON.parse(line).case;
    const t = offence.get(c);
    if (t === undefined || t >= NEW_LAW) {
      cwOut++;
      if (!bad.has(c)) console.error(`mismatch: casewarden flags ${c}, zen does not`);
    }
  }
  const m = /read ([\d.]+) s, rules ([\d.]+) s/.exec(cw.stderr);
  const readS = m ? parseFloat(m[1]) : NaN;
  const rulesS = m ? parseFloat(m[2]) : NaN;

  const n = inputs.length;
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`decisions: ${f(all)} in the file, ${f(n)} for offences under the 2025 law (given to zen)`);
  console.log(`zen-engine ${require('@gorules/zen-engine/package.json').version}: ${f(n / seqS)} decisions/s one call at a time (${(seqS * 1e6 / n).toFixed(2)} us/call), ` +
              `${f(n / parS)} decisions/s with ${conc} calls in flight; ${f(out)} out of range`);
  console.log(`casewarden SANCTION-RANGE: ${f(all / rulesS)} decisions/s in the rules (${(rulesS * 1e6 / all).toFixed(2)} us/decision), ` +
              `${f(all / (readS + rulesS))} decisions/s with JSON parsing and storing of all events; ${f(cwOut)} out of range (2025 law)`);
  console.log(`ratio: casewarden rules / zen one-at-a-time = ${(seqS / n / (rulesS / all)).toFixed(1)}x, ` +
              `casewarden end-to-end / zen in flight = ${((all / (readS + rulesS)) / (n / parS)).toFixed(1)}x`);
  if (cwOut !== out) {
    console.error(`MISMATCH: zen finds ${out} out of range, casewarden ${cwOut}`);
    process.exit(1);
  }
  console.log('agreement: both find the same decisions out of range');
}

main().catch((e) => { console.error(e); process.exit(1); });
