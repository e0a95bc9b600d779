// check.js - compares what send.js sent with what tracecli returns.
//
// Usage: node check.js EXPECTED.json DIR
// DIR holds show-<trace>.json (`tracecli show --json`) and
// export-<trace>.json (`tracecli export`, OTLP JSON) for every trace.
// Prints one "ok - ..." or "not ok - ..." line per assertion.
'use strict';

const fs = require('fs');
const path = require('path');

const expected = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const dir = process.argv[3];

function report(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function eq(what, got, want) {
  const ok = same(got, want);
  report(ok, ok ? what : `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function load(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  } catch (e) {
    return null;
  }
}

// OTLP JSON AnyValue -> plain JS value.
function plain(v) {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(plain);
  if ('kvlistValue' in v) return attrs(v.kvlistValue.values);
  return null;
}

function attrs(kvs) {
  const o = {};
  for (const kv of kvs || []) o[kv.key] = plain(kv.value);
  return o;
}

for (const traceId of expected.traces) {
  const show = load(`show-${traceId}.json`);
  const exp = load(`export-${traceId}.json`);
  const want = expected.spans.filter((s) => s.trace_id === traceId);
  report(show !== null, `trace ${traceId}: tracecli show --json parses`);
  report(exp !== null, `trace ${traceId}: tracecli export parses`);
  if (show === null || exp === null) continue;
  eq(`trace ${traceId}: span count`, show.spans.length, want.length);

  const exported = {};
  for (const rs of exp.resourceSpans || []) {
    for (const ss of rs.scopeSpans || []) {
      for (const sp of ss.spans || []) exported[sp.spanId] = sp;
    }
  }

  for (const w of want) {
    const tag = `${w.service}/${w.name} (${w.encoding})`;
    const got = show.spans.find((s) => s.span_id === w.span_id);
    report(got !== undefined, `${tag}: stored`);
    if (got === undefined) continue;
    eq(`${tag}: parent`, got.parent_span_id || '', w.parent_span_id);
    eq(`${tag}: service`, got.service, w.service);
    eq(`${tag}: name`, got.name, w.name);
    eq(`${tag}: kind`, got.kind, w.kind);
    eq(`${tag}: status`, got.status, w.status);
    eq(`${tag}: attributes`, got.attributes, w.attributes);
    eq(`${tag}: events`, got.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      w.events);

    const x = exported[w.span_id];
    report(x !== undefined, `${tag}: in tracecli export`);
    if (x === undefined) continue;
    eq(`${tag}: status message`, (x.status && x.status.message) || '', w.status_message);
    if (w.start_unix_nano !== undefined) {
      eq(`${tag}: start time to the nanosecond`, x.startTimeUnixNano,
        w.start_unix_nano);
    }
    eq(`${tag}: links`, (x.links || []).map((l) => ({
      trace_id: l.traceId,
      span_id: l.spanId,
      attributes: attrs(l.attributes),
    })), w.links);
  }
}
