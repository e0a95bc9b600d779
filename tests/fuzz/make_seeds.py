#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ for the protobuf, JSON,
query, sanitiser and postings targets (fuzz_propagation's seeds are
hand-made files). Run from the repository root:
python3 tests/fuzz/make_seeds.py. The output is committed; rerun only to
change the seeds."""
import json
import os
import struct

ROOT = "tests/fuzz/corpus"
NOW = 1735689600 * 10**9  # 2025-01-01T00:00:00Z
TID = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
SID = bytes.fromhex("00f067aa0ba902b7")
PID = bytes.fromhex("53995c3f42cd8ad8")


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wt):
    return varint(field << 3 | wt)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(field, 2) + varint(len(payload)) + payload


def vi(field, v):
    return tag(field, 0) + varint(v)


def f64(field, v):
    return tag(field, 1) + struct.pack("<Q", v)


def f32(field, v):
    return tag(field, 5) + struct.pack("<I", v)


def dbl(field, v):
    return tag(field, 1) + struct.pack("<d", v)


# AnyValue / KeyValue
def any_str(s):
    return ld(1, s)


def kv(key, anyv):
    return ld(1, key) + ld(2, anyv)


def span(tid=TID, sid=SID, parent=b"", name="GET /", start=NOW,
         dur=1_000_000, attrs=(), events=(), links=(), status=None, kind=2):
    b = ld(1, tid) + ld(2, sid)
    if parent:
        b += ld(4, parent)
    b += ld(5, name) + vi(6, kind) + f64(7, start) + f64(8, start + dur)
    for a in attrs:
        b += ld(9, a)
    for e in events:
        b += ld(11, e)
    for l in links:
        b += ld(13, l)
    if status is not None:
        b += ld(15, status)
    return b


def request(spans, service="checkout", scope=b""):
    res = ld(1, kv("service.name", any_str(service)))
    ss = (ld(1, scope) if scope else b"") + b"".join(ld(2, s) for s in spans)
    rs = ld(1, res) + ld(2, ss)
    return ld(1, rs)


def nested(depth, kind):
    """An AnyValue nested depth levels (kind 5 array, 6 kvlist)."""
    v = any_str("leaf")
    for _ in range(depth):
        if kind == 5:
            v = ld(5, ld(1, v))          # ArrayValue.values
        else:
            v = ld(6, ld(1, kv("k", v)))  # KeyValueList.values
    return v


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def protobuf_seeds(t):
    write(t, "one_span", request([span()]))
    write(t, "parent_and_child", request([
        span(name="root"),
        span(sid=PID, parent=SID, name="child", attrs=[
            kv("http.method", any_str("GET")),
            kv("http.status_code", vi(3, 200)),
            kv("ok", vi(2, 1)),
            kv("ratio", dbl(4, 0.25)),
            kv("blob", ld(7, b"\x00\xff")),
        ], status=ld(2, "boom") + vi(3, 2))]))
    ev = f64(1, NOW + 10) + ld(2, "exception") + ld(3, kv("m", any_str("x")))
    ln = ld(1, TID) + ld(2, PID) + ld(3, "k=v") + f32(6, 0x101)
    write(t, "events_links", request([span(events=[ev], links=[ln])],
                                     scope=ld(1, "lib") + ld(2, "1.0")))
    write(t, "nested_ok", request([span(attrs=[kv("deep", nested(20, 5))])]))
    write(t, "nested_too_deep", request([span(attrs=[kv("deep",
                                                       nested(70, 6))])]))
    write(t, "bad_ids", request([span(tid=b"\x00" * 16, sid=b"\x01" * 3)]))
    write(t, "end_before_start", request([span(dur=0)[:-8] +
                                          struct.pack("<Q", NOW - 1)]))
    write(t, "truncated", request([span()])[:-5])
    write(t, "unknown_fields", request([span()]) + vi(99, 7) + ld(100, "x"))
    write(t, "bad_utf8", request([span(name=b"ok\xff\xfe")]))
    write(t, "empty", b"")


def json_seeds():
    t = "otlp_json"
    doc = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{
            "scope": {"name": "lib", "version": "1"},
            "spans": [{
                "traceId": TID.hex(), "spanId": SID.hex(),
                "parentSpanId": PID.hex(), "name": "GET /cart",
                "kind": 2, "startTimeUnixNano": str(NOW),
                "endTimeUnixNano": str(NOW + 5000),
                "attributes": [
                    {"key": "i", "value": {"intValue": "42"}},
                    {"key": "d", "value": {"doubleValue": "NaN"}},
                    {"key": "b", "value": {"boolValue": True}},
                    {"key": "y", "value": {"bytesValue": "AP8="}},
                    {"key": "a", "value": {"arrayValue": {"values": [
                        {"stringValue": "x"}, {"intValue": 1}]}}},
                    {"key": "m", "value": {"kvlistValue": {"values": [
                        {"key": "k", "value": {"stringValue": "v"}}]}}},
                ],
                "events": [{"timeUnixNano": str(NOW + 1), "name": "e"}],
                "links": [{"traceId": TID.hex(), "spanId": PID.hex(),
                           "traceState": "a=b", "flags": 257}],
                "status": {"code": 2, "message": "failed"},
                "flags": 1, "traceState": "rojo=1",
            }]}]}]}
    write(t, "full", json.dumps(doc))
    write(t, "full_pretty", json.dumps(doc, indent=1))
    write(t, "empty_object", "{}")
    write(t, "empty_list", '{"resourceSpans":[]}')
    write(t, "null_fields", '{"resourceSpans":[{"resource":null,'
          '"scopeSpans":[{"spans":[{"traceId":"' + TID.hex() +
          '","spanId":"' + SID.hex() + '","name":null,"kind":null}]}]}]}')
    write(t, "upper_hex_numbers", '{"resourceSpans":[{"scopeSpans":[{"spans":'
          '[{"traceId":"' + TID.hex().upper() + '","spanId":"' +
          SID.hex().upper() + '","startTimeUnixNano":1,'
          '"endTimeUnixNano":2}]}]}]}')
    write(t, "bad_hex", '{"resourceSpans":[{"scopeSpans":[{"spans":'
          '[{"traceId":"zz","spanId":"12"}]}]}]}')
    deep = '{"stringValue":"x"}'
    for _ in range(20):
        deep = '{"arrayValue":{"values":[' + deep + ']}}'
    write(t, "too_deep_any", '{"resourceSpans":[{"scopeSpans":[{"spans":'
          '[{"traceId":"' + TID.hex() + '","spanId":"' + SID.hex() +
          '","attributes":[{"key":"d","value":' + deep + '}]}]}]}]}')
    write(t, "not_json", "resourceSpans: [")
    write(t, "wrong_types", '{"resourceSpans":{"scopeSpans":7}}')
    with open("tests/e2e/fixtures/tracecli_checkout.json") as f:
        write(t, "checkout_fixture", f.read().replace("@S@", "1735689600"))


def query_seeds():
    t = "query_request"
    write(t, "get_trace", ld(1, ld(1, TID)))
    write(t, "get_trace_bad_len", ld(1, ld(1, b"\x01\x02")))
    write(t, "search_all", ld(2, b""))
    write(t, "search_filters", ld(2, ld(1, "svc-1") + ld(2, "op-3") +
                                  ld(3, ld(1, "http.method") + ld(2, "GET")) +
                                  vi(4, 1000) + vi(5, 10**9) + vi(10, 1) +
                                  vi(11, 5)))
    write(t, "search_longest", ld(2, vi(12, 1) + vi(4, 100000)))
    write(t, "search_window", ld(2, f64(8, NOW - 3600 * 10**9) +
                                  f64(9, NOW)))
    write(t, "search_empty_key", ld(2, ld(3, ld(2, "v"))))
    write(t, "slow", ld(3, ld(1, "svc-0") + vi(5, 10) + vi(6, 1)))
    write(t, "slow_all", ld(3, b""))
    write(t, "services", ld(4, b""))
    write(t, "operations", ld(5, ld(1, "svc-2")))
    write(t, "stats", ld(6, b""))
    write(t, "search_count", ld(2, ld(1, "svc-1") + vi(11, 1) + vi(13, 1)))
    write(t, "search_most_spans", ld(2, vi(12, 2)))
    write(t, "search_most_errors", ld(2, vi(12, 3) + vi(10, 1)))
    write(t, "tail_start", ld(8, b""))
    write(t, "tail_from_first", ld(8, vi(2, 1)))
    write(t, "tail_filter", ld(8, ld(1, ld(1, "svc-1") + vi(10, 1)) +
                               vi(2, 1)))
    write(t, "empty", b"")
    write(t, "garbage", b"\xff\xff\xff\xff")


def sanitize_seeds():
    t = "sanitize"
    # byte 0: mode (bit 0 ASCII, bit 1 pad), byte 1: buffer, byte 2: cols
    write(t, "plain", b"\x00\x40\x14GET /checkout")
    write(t, "ascii", b"\x01\x40\x14caf\xc3\xa9 \xe2\x9c\x93")
    write(t, "esc", b"\x00\x80\x30\x1b[2J\x1b]0;title\x07\x1b[31mred")
    write(t, "c1", b"\x00\x80\x30a\xc2\x9b31mb\xc2\x85c")
    write(t, "bidi", b"\x00\x80\x30user\xe2\x80\xaegnp.exe\xe2\x81\xa6x")
    write(t, "invalid", b"\x00\x40\x10\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90")
    write(t, "cut", b"\x02\x05\x03\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97")
    write(t, "controls", b"\x03\xff\x50tab\there\nnl\rcr\x7fdel\x00after")
    write(t, "wide", b"\x00\x20\x05\xf0\x9f\x98\x80\xe4\xb8\xad\xcc\x81e")


def postings_seeds():
    t = "postings"
    top = 2**64 - 1

    # bytes 0-7: base (a D record's longest duration), big-endian; its low
    # bit: T postings carry 16 bits of value hash (V). Then the value.
    def hdr(base):
        return struct.pack(">Q", base)

    def tlist(posts, with_hash):  # (ordinal, offset, hash), by ordinal
        out, prev = b"", 0
        for ord_, off, vhash in posts:
            out += varint(ord_ - prev) + varint(off)
            if with_hash:
                out += struct.pack(">H", vhash)
            prev = ord_
        return out

    def dlist(base, posts):  # (duration, ordinal, offset); no span ID
        out = b""
        for dur, ord_, off in posts:
            out += varint(base - dur) + varint(ord_) + varint(off)
            base = dur
        return out

    posts = [(i * 3 + i // 10, (i * 7919) ** 2 % 10**12, 0xbeef - i)
             for i in range(40)]
    write(t, "t_list", hdr(NOW) + tlist(posts, False))
    write(t, "t_hash", hdr(NOW + 1) + tlist(posts, True))
    write(t, "t_max", hdr(4) + tlist([(0, top, 0),
                                      (2**32 - 1, top, 0)], False))
    write(t, "t_max_hash", hdr(5) + tlist([(2**32 - 1, top, 0xffff)], True))
    base = 3 * 10**9
    write(t, "d_list", hdr(base) + dlist(
        base, [(base - i * 5000, (i * 37) % 300, i * 1000)
               for i in range(33)]))
    write(t, "d_max", hdr(top) + dlist(
        top, [(top, 0, 0), (0, 2**32 - 1, top)]))
    write(t, "empty", hdr(4))
    write(t, "t_non_minimal", hdr(4) + b"\x80\x00\x80\x00")
    write(t, "d_non_minimal", hdr(4) + b"\x80\x00\x80\x00\x80\x00")
    write(t, "truncated", hdr(4) + b"\x00\x80")
    write(t, "overlong", hdr(4) + b"\x80" * 10 + b"\x00\x00")
    write(t, "ord_too_big", hdr(4) + varint(2**32) + b"\x00")
    write(t, "ord_sum_too_big", hdr(4) + b"\x01\x00" +
          varint(2**32 - 1) + b"\x00")
    write(t, "delta_too_big", hdr(4) + b"\x05\x00\x00")
    write(t, "hash_cut", hdr(5) + b"\x00\x00\x12")


if __name__ == "__main__":
    protobuf_seeds("otlp_protobuf")
    protobuf_seeds("pipeline")
    json_seeds()
    query_seeds()
    sanitize_seeds()
    postings_seeds()
