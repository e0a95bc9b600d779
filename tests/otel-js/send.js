// send.js - a real OpenTelemetry JavaScript SDK as an OTLP/HTTP client.
//
// Emits two traces across three services, each service with its own
// TracerProvider and exporter, so that all three encodings reach the
// collector:
//   web  -> OTLP/HTTP protobuf exporter
//   api  -> OTLP/HTTP JSON exporter
//   db   -> OTLP/HTTP protobuf exporter with gzip compression
// Context crosses services through W3C traceparent headers (inject/extract),
// as it would over real HTTP. Spans carry attributes of every type, events
// (one an exception), links (one to the other trace) and statuses.
//
// With --grpc HOST:PORT (h2c) or --grpc https://HOST:PORT (TLS) instead of
// --url, the three services export over OTLP/gRPC
// (@opentelemetry/exporter-trace-otlp-grpc): web and api plain, db gzip.
//
// With --zipkin HOST:PORT, they export Zipkin v2 JSON to POST /api/v2/spans
// (@opentelemetry/exporter-zipkin), and what is expected back is what
// docs/ZIPKIN.md's mapping gives: every attribute and resource attribute
// as a string attribute (service.name as the service), events without
// attributes, no links (the exporter drops both), and the start time to
// the nanosecond of the exporter's fractional microseconds.
//
// Usage: node send.js (--url http://127.0.0.1:PORT | --grpc 127.0.0.1:PORT
//        | --zipkin 127.0.0.1:PORT) --out expected.json
// Writes what was sent (ids in lowercase hex) to --out; exits 1 if any
// export did not succeed.
'use strict';

const fs = require('fs');
const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BasicTracerProvider,
  BatchSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const ProtoExporter =
  require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter;
const JsonExporter =
  require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;

function arg(name, optional) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (optional) return null;
    console.error(`usage: node send.js --url URL|--grpc ADDR --out FILE (missing ${name})`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

const grpcAddr = arg('--grpc', true);
const zipkinAddr = arg('--zipkin', true);
const base = grpcAddr || zipkinAddr ? null : arg('--url').replace(/\/$/, '');
const outFile = arg('--out');
const url = `${base}/v1/traces`;

// JS SpanKind is 0-based (INTERNAL = 0); OTLP's starts at UNSPECIFIED = 0.
const KIND = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

const sent = [];
const failures = [];

// Wraps an exporter: records every span it exports and every failure.
function recording(exporter, encoding) {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          failures.push(`${encoding}: ${result.error || 'export failed'}`);
        } else {
          for (const s of spans) sent.push(describe(s, encoding));
        }
        done(result);
      });
    },
    shutdown() { return exporter.shutdown(); },
    forceFlush() { return exporter.forceFlush ? exporter.forceFlush() : Promise.resolve(); },
  };
}

function attrs(a) {
  const o = {};
  for (const [k, v] of Object.entries(a || {})) o[k] = v;
  return o;
}

// Epoch nanoseconds (a decimal string) of the exporter's microseconds
// (hrTimeToMicroseconds: a double with a fraction), as the collector
// reads them: whole microseconds, plus the exact fraction.
function zipkinNanos(t) {
  const us = t[0] * 1e6 + t[1] / 1e3;
  const whole = Math.floor(us);
  return (BigInt(whole) * 1000n + BigInt(Math.round((us - whole) * 1000)))
    .toString();
}

// What docs/ZIPKIN.md's mapping gives back for span s described as d.
function asZipkin(d, s) {
  const a = {};
  for (const [k, v] of Object.entries(s.attributes || {})) a[k] = String(v);
  for (const [k, v] of Object.entries(s.resource.attributes)) {
    if (k !== 'service.name') a[k] = String(v);
  }
  d.attributes = a;
  d.events = d.events.map((e) => ({ name: e.name, attributes: {} }));
  d.links = [];
  d.start_unix_nano = zipkinNanos(s.startTime);
  return d;
}

function describe(s, encoding) {
  const ctx = s.spanContext();
  const parent = s.parentSpanContext ? s.parentSpanContext.spanId :
    (s.parentSpanId || '');
  const d = {
    encoding,
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: parent || '',
    service: s.resource.attributes['service.name'],
    name: s.name,
    kind: KIND[s.kind],
    status: STATUS[s.status.code],
    status_message: s.status.message || '',
    attributes: attrs(s.attributes),
    events: s.events.map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
    links: s.links.map((l) => ({
      trace_id: l.context.traceId,
      span_id: l.context.spanId,
      attributes: attrs(l.attributes),
    })),
  };
  return encoding.startsWith('zipkin') ? asZipkin(d, s) : d;
}

function provider(service, exporter, encoding) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': '1.4.2',
      'deployment.environment.name': 'e2e',
    }),
    spanProcessors: [new BatchSpanProcessor(recording(exporter, encoding), {
      scheduledDelayMillis: 50,
    })],
  });
}

// The three services' exporters: OTLP/HTTP in three encodings, gRPC or
// Zipkin.
function exporters() {
  if (zipkinAddr) {
    const { ZipkinExporter } = require('@opentelemetry/exporter-zipkin');
    const z = `http://${zipkinAddr}/api/v2/spans`;
    return [[new ZipkinExporter({ url: z }), 'zipkin'],
      [new ZipkinExporter({ url: z }), 'zipkin'],
      [new ZipkinExporter({ url: z }), 'zipkin']];
  }
  if (grpcAddr) {
    const GrpcExporter =
      require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter;
    // HOST:PORT is h2c; an https:// URL is TLS, trusting the CA named by
    // OTEL_EXPORTER_OTLP_CERTIFICATE (the exporter reads it).
    const g = grpcAddr.includes('://') ? grpcAddr : `http://${grpcAddr}`;
    return [[new GrpcExporter({ url: g }), 'grpc'],
      [new GrpcExporter({ url: g }), 'grpc'],
      [new GrpcExporter({ url: g, compression: 'gzip' }), 'grpc+gzip']];
  }
  return [[new ProtoExporter({ url }), 'protobuf'],
    [new JsonExporter({ url }), 'json'],
    [new ProtoExporter({ url, compression: 'gzip' }), 'protobuf+gzip']];
}

const [webExp, apiExp, dbExp] = exporters();
const web = provider('web', ...webExp);
const apiSvc = provider('api', ...apiExp);
const db = provider('db', ...dbExp);
const propagator = new W3CTraceContextPropagator();

// Crosses a process boundary: inject into headers, extract on the other side.
function hop(ctx) {
  const headers = {};
  propagator.inject(ctx, headers, api.defaultTextMapSetter);
  return propagator.extract(api.ROOT_CONTEXT, headers,
    api.defaultTextMapGetter);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function main() {
  const wt = web.getTracer('web-http', '2.0.0');
  const at = apiSvc.getTracer('api-handlers', '0.9.1');
  const dt = db.getTracer('db-driver', '7.1.0');

  // Trace B first: a background job that trace A's db span links to.
  const job = at.startSpan('nightly reindex', {
    kind: api.SpanKind.CONSUMER,
    attributes: { 'job.id': 'reindex-42', 'job.batch': 17 },
  });
  await sleep(2);
  job.end();

  // Trace A: web -> api -> db.
  const root = wt.startSpan('GET /checkout', {
    kind: api.SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/checkout',
      'http.response.status_code': 200,
      'url.full': 'http://shop.example/checkout?cart=9',
      'app.cart.items': 3,
      'app.cart.total': 99.5,
      'app.premium': true,
      'app.tags': ['a', 'b', 'c'],
    },
  });
  const rootCtx = api.trace.setSpan(api.ROOT_CONTEXT, root);
  const call = wt.startSpan('POST api/orders', {
    kind: api.SpanKind.CLIENT,
    attributes: { 'server.address': 'api', 'server.port': 8080 },
  }, rootCtx);
  call.addEvent('retry', { 'retry.attempt': 1, 'retry.reason': 'timeout' });

  const srv = at.startSpan('POST /orders', {
    kind: api.SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'http.route': '/orders' },
  }, hop(api.trace.setSpan(rootCtx, call)));
  const srvCtx = api.trace.setSpan(api.ROOT_CONTEXT, srv);
  const validate = at.startSpan('validate order', {
    kind: api.SpanKind.INTERNAL,
  }, srvCtx);
  validate.recordException({ name: 'ValidationError', message: 'coupon expired' });
  validate.setStatus({ code: api.SpanStatusCode.ERROR, message: 'coupon expired' });
  await sleep(1);
  validate.end();

  const q = at.startSpan('SELECT orders', { kind: api.SpanKind.CLIENT }, srvCtx);
  const dbs = dt.startSpan('query orders', {
    kind: api.SpanKind.SERVER,
    attributes: {
      'db.system.name': 'postgresql',
      'db.query.text': 'SELECT * FROM orders WHERE id = $1',
      'db.rows': 12,
    },
    links: [{
      context: job.spanContext(),
      attributes: { 'link.reason': 'reindexed by' },
    }],
  }, hop(api.trace.setSpan(srvCtx, q)));
  dbs.addEvent('cache miss', { 'cache.key': 'orders:9' });
  await sleep(2);
  dbs.setStatus({ code: api.SpanStatusCode.OK });
  dbs.end();
  q.end();
  srv.setStatus({ code: api.SpanStatusCode.ERROR, message: 'validation failed' });
  srv.end();
  call.end();
  root.setStatus({ code: api.SpanStatusCode.OK });
  root.end();

  await Promise.all([web, apiSvc, db].map((p) => p.forceFlush()));
  await Promise.all([web, apiSvc, db].map((p) => p.shutdown()));

  fs.writeFileSync(outFile, JSON.stringify({
    traces: [root.spanContext().traceId, job.spanContext().traceId],
    spans: sent,
  }, null, 2));
  if (failures.length > 0 || sent.length !== 7) {
    console.error(`exports failed: ${failures.join('; ')} (sent ${sent.length} of 7)`);
    process.exit(1);
  }
  console.log(`sent ${sent.length} spans in 2 traces`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
