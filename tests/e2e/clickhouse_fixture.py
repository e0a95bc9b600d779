#!/usr/bin/env python3
"""Seeded OTLP JSON spans with every feature, for the ClickHouse tests:
several resources (services with extra resource attributes, two scopes),
span attributes of every type (string, int, double, bool, array, kvlist,
bytes), events with attributes, links, error statuses, every span kind.
Usage: clickhouse_fixture.py SEED TRACES END_UNIX_S [FIRST_TRACE] > f.json
Traces start one second apart, ending before END_UNIX_S; durations are
distinct (no ties in any order)."""
import base64
import json
import random
import sys
import zlib

seed, n_traces, end_s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
rnd = random.Random(seed * 7919 + first)
SERVICES = ["frontend", "cart", "payments", "db", "search"]
OPS = {s: [f"{s}.op{i}" for i in range(4)] for s in SERVICES}


def kv(key, value):
    return {"key": key, "value": value}


def attrs(rnd, t, j):
    return [
        kv("http.method", {"stringValue": rnd.choice(["GET", "POST", "PUT"])}),
        kv("http.status_code", {"intValue": str(rnd.choice([200, 404, 500]))}),
        kv("ratio", {"doubleValue": round(rnd.random(), 3)}),
        kv("cache.hit", {"boolValue": rnd.random() < 0.5}),
        kv("tags", {"arrayValue": {"values": [{"stringValue": "a"},
                                              {"intValue": "7"}]}}),
        kv("ctx", {"kvlistValue": {"values": [kv("k", {"stringValue": "v"})]}}),
        kv("blob", {"bytesValue": base64.b64encode(bytes([t % 256, j])).decode()}),
        kv("user.id", {"stringValue": f"user-{rnd.randrange(20)}"}),
    ]


def span(rnd, t, j, tid, parent, start, used):
    dur = rnd.randrange(50_000, 900_000_000)
    while dur in used:
        dur += 1
    used.add(dur)
    s = {
        "traceId": tid, "spanId": f"{t + 1:08x}{j + 1:08x}",
        "name": "", "kind": 0,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + dur),
        "attributes": attrs(rnd, t, j),
        "events": [{"timeUnixNano": str(start + dur // 2), "name": "retry",
                    "attributes": [kv("attempt", {"intValue": str(j)})]}],
        "links": [{"traceId": f"{(t + 7) % 4096:032x}",
                   "spanId": f"{j + 3:016x}",
                   "attributes": [kv("why", {"stringValue": "follows"})]}],
    }
    if parent:
        s["parentSpanId"] = parent
    if rnd.random() < 0.15:
        s["status"] = {"code": 2, "message": "boom"}
    elif rnd.random() < 0.5:
        s["status"] = {"code": 1}
    return s


groups = {}
used = set()
for t in range(first, first + n_traces):
    tid = f"{seed:08x}{t + 1:024x}"
    start0 = (end_s - (first + n_traces - t) - 5) * 1_000_000_000 + \
        rnd.randrange(1_000_000)
    n = 2 + rnd.randrange(6)
    ids = []
    for j in range(n):
        svc = SERVICES[(t + j) % len(SERVICES)] if j else SERVICES[t % 2]
        parent = ids[rnd.randrange(len(ids))] if ids else None
        sp = span(rnd, t, j, tid, parent, start0 + j * 1_000_000, used)
        sp["name"] = rnd.choice(OPS[svc])
        # One kind per operation, as real code has: which kind a store
        # keeps for an operation seen with several is not specified.
        sp["kind"] = 1 + zlib.crc32(sp["name"].encode()) % 5
        ids.append(sp["spanId"])
        scope = "lib-a" if j % 3 else "lib-b"
        groups.setdefault((svc, scope), []).append(sp)

out = {"resourceSpans": []}
for svc in SERVICES:
    scopes = [{"scope": {"name": sc, "version": "1.0",
                         "attributes": [kv("scope.attr", {"stringValue": sc})]},
               "spans": groups[(svc, sc)]}
              for sc in ("lib-a", "lib-b") if (svc, sc) in groups]
    if scopes:
        out["resourceSpans"].append({
            "resource": {"attributes": [
                kv("service.name", {"stringValue": svc}),
                kv("host.name", {"stringValue": f"host-{svc}"}),
                kv("service.version", {"stringValue": "2.1"}),
                kv("deployment.count", {"intValue": "3"})]},
            "scopeSpans": scopes})
json.dump(out, sys.stdout)
