// Every answer an API test received, against api/openapi.yaml: the path
// and method must be in the file, the status documented (or the
// operation's default), and a JSON body valid against the response's
// schema. Objects are closed: a property the file does not list is an
// error unless the schema says additionalProperties, so that a field the
// server adds without documenting it fails too.
//
// Usage: node validate.mjs OPENAPI.yaml ANSWERS_DIR
// ANSWERS_DIR/index.tsv: "N<TAB>METHOD<TAB>URL<TAB>STATUS<TAB>CONTENT-TYPE",
// the body of answer N in ANSWERS_DIR/N. Prints one line per problem and
// "validated N answers, N problems"; exits 1 on any problem.
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const [specPath, dir] = process.argv.slice(2);
const spec = YAML.parse(readFileSync(specPath, 'utf8'));

function deref(node) {
  let seen = 0;
  while (node && node.$ref && seen++ < 20) {
    const parts = node.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    node = parts.reduce((n, p) => n[p], spec);
  }
  return node;
}

// OpenAPI 3.0 schema -> JSON Schema, closed objects, allOf of objects merged.
function norm(s) {
  if (s === undefined || s === null || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map(norm);
  if (s.$ref) return norm(deref(s));
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'example' || k === 'description') continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, norm(ps)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = typeof v === 'object' ? norm(v) : v;
    else if (k === 'oneOf' || k === 'anyOf') out[k] = v.map(norm);
    else if (k !== 'allOf') out[k] = v;
  }
  if (s.allOf) {
    const parts = s.allOf.map(norm);
    if (parts.every((p) => p.type === 'object' || p.properties)) {
      out.type = 'object';
      out.properties = Object.assign({}, ...parts.map((p) => p.properties || {}));
      const req = parts.flatMap((p) => p.required || []);
      if (req.length) out.required = [...new Set(req)];
      if (parts.some((p) => p.additionalProperties === true)) out.additionalProperties = true;
      if (parts.some((p) => p.nullable)) out.nullable = true;
    } else {
      out.allOf = parts;
    }
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (out.nullable && out.type) {
    out.type = [out.type, 'null'];
    delete out.nullable;
  } else if (out.nullable) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  if (out.enum && Array.isArray(out.type) && out.type.includes('null')) out.enum = [...out.enum, null];
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const routes = Object.entries(spec.paths).map(([p, ops]) => ({
  template: p,
  re: new RegExp('^' + p.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+') + '(/.*)?$'),
  exact: new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  ops,
}));

function route(path) {
  return routes.find((r) => r.exact.test(path)) ||
    routes.find((r) => r.template.endsWith('/') && r.re.test(path));
}

const compiled = new Map();
function validator(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(norm(schema)));
  return compiled.get(key);
}

const lines = readFileSync(`${dir}/index.tsv`, 'utf8').split('\n').filter(Boolean);
let problems = 0;
const bad = (msg) => { problems++; console.log(`openapi: ${msg}`); };

for (const line of lines) {
  const [n, method, url, status, ctype] = line.split('\t');
  const path = decodeURIComponentSafe(url.split('?')[0]);
  const what = `${method} ${url.slice(0, 120)} -> ${status}`;
  const r = route(path);
  if (status === '000') continue;            // the connection was cut: no answer to check
  if (!r) {
    // unknown paths answer 404 with the error shape, or a refusal before routing
    if (!['404', '400', '414', '431', '505'].includes(status)) bad(`${what}: no such path in the file`);
    checkError(n, what, ctype);
    continue;
  }
  const op = r.ops[method.toLowerCase()];
  if (!op) {
    if (status !== '405' && status !== '400') bad(`${what}: no ${method} for ${r.template} in the file`);
    checkError(n, what, ctype);
    continue;
  }
  const resp = deref(op.responses[status] || op.responses.default);
  if (!resp) {
    bad(`${what}: status ${status} is not documented for ${method} ${r.template}`);
    continue;
  }
  const media = resp.content && resp.content[(ctype || '').split(';')[0].trim()];
  if (resp.content && !media) {
    bad(`${what}: answered as '${ctype}', the file has ${Object.keys(resp.content).join(', ')}`);
    continue;
  }
  if (!resp.content && /json/.test(ctype || '') && status >= '400') {
    checkError(n, what, ctype);
    continue;
  }
  if (!media || !media.schema) {
    if (!resp.content && /json/.test(ctype || '')) bad(`${what}: a JSON body the file gives no schema for`);
    continue;
  }
  const body = readFileSync(`${dir}/${n}`, 'utf8');
  let doc;
  try { doc = JSON.parse(body); } catch (e) { bad(`${what}: not JSON: ${body.slice(0, 100)}`); continue; }
  const v = validator(`${r.template} ${method} ${status} ${ctype}`, media.schema);
  if (!v(doc)) bad(`${what}: ${explain(v.errors)}`);
}

function explain(errors) {
  return errors.slice(0, 3).map((e) => `${e.instancePath || '(body)'} ${e.message}` +
    (e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : '')).join('; ');
}

function checkError(n, what, ctype) {
  if (!/application\/json/.test(ctype || '')) { bad(`${what}: an error answered as '${ctype}', not JSON`); return; }
  const body = readFileSync(`${dir}/${n}`, 'utf8');
  let doc;
  try { doc = JSON.parse(body); } catch (e) { bad(`${what}: an error that is not JSON`); return; }
  const v = validator('Error', spec.components.schemas.Error);
  if (!v(doc)) bad(`${what}: ${explain(v.errors)}`);
}

function decodeURIComponentSafe(s) {
  try { return decodeURIComponent(s); } catch (e) { return s; }
}

console.log(`validated ${lines.length} answers, ${problems} problems`);
process.exit(problems ? 1 : 0);
