#!/usr/bin/env python3
"""A stdlib-only replay of the key cases of the w3c/trace-context test suite.

Usage: w3c_harness.py SERVICE_URL

It plays the suite's harness: sends POST SERVICE_URL with traceparent /
tracestate variants (duplicated fields, odd casing, OWS) and a JSON array of
callbacks to its own HTTP server on a free loopback port, then checks what
the service sent back. Prints one "ok - NAME" or "not ok - NAME: why" line
per case; exits 0 when none failed.
"""
import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse

TP_RE = re.compile(r'^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$')
TID = '12345678901234567890123456789012'
PID = '1234567890123456'
TP = '00-%s-%s-01' % (TID, PID)

calls = {}
calls_lock = threading.Lock()


class Callback(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n)
        with calls_lock:
            calls[self.path] = (list(self.headers.items()), body)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'{}')

    def log_message(self, *args):
        pass


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


class Result:
    def __init__(self, headers, body):
        self.headers = headers
        self.body = body

    def traceparent(self):
        tps = [v for k, v in self.headers if k.lower() == 'traceparent']
        check(len(tps) == 1, 'expected one traceparent, got %r' % tps)
        m = TP_RE.match(tps[0])
        check(m is not None, 'bad traceparent %r' % tps[0])
        ver, tid, pid, flags = m.groups()
        check(ver == '00', 'version %s' % ver)
        check(tid != '0' * 32 and pid != '0' * 16, 'zero id %r' % tps[0])
        return tid, pid, int(flags, 16)

    def tracestate(self):
        """The suite's Tracestate: a dict of the combined fields."""
        out = {}
        for k, v in self.headers:
            if k.lower() != 'tracestate':
                continue
            for member in v.split(','):
                member = member.strip(' \t')
                if member:
                    key, _, val = member.partition('=')
                    out[key] = val
        return out

    def raw_tracestate(self):
        return ','.join(v for k, v in self.headers
                        if k.lower() == 'tracestate')


class Harness:
    def __init__(self, service):
        self.service = urllib.parse.urlsplit(service)
        self.srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Callback)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.seq = 0

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def request(self, headers, count=1, arguments=None, chunked=False):
        """Send one harness request; return the callbacks' Results."""
        self.seq += 1
        urls = ['http://127.0.0.1:%d/s%d.%d' % (self.port, self.seq, i)
                for i in range(count)]
        body = json.dumps([{'url': u, 'arguments': arguments or []}
                           for u in urls]).encode()
        conn = http.client.HTTPConnection(self.service.hostname,
                                          self.service.port, timeout=10)
        conn.putrequest('POST', self.service.path or '/')
        conn.putheader('Content-Type', 'application/json')
        for k, v in headers:
            conn.putheader(k, v)
        if chunked:
            conn.putheader('Transfer-Encoding', 'chunked')
            conn.endheaders()
            conn.send(b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body))
        else:
            conn.putheader('Content-Length', str(len(body)))
            conn.endheaders()
            conn.send(body)
        resp = conn.getresponse()
        status = resp.status
        resp.read()
        conn.close()
        out = []
        with calls_lock:
            for u in urls:
                path = urllib.parse.urlsplit(u).path
                if path in calls:
                    out.append(Result(*calls.pop(path)))
        return status, out

    def single(self, headers):
        status, res = self.request(headers)
        check(len(res) == 1, 'no callback (service answered %d)' % status)
        return res[0]


def restarts(h, headers):
    tid, pid, _ = h.single(headers).traceparent()
    check(tid != TID, 'trace-id kept for invalid input %r' % (headers,))


def keeps(h, headers):
    r = h.single(headers)
    tid, pid, _ = r.traceparent()
    check(tid == TID, 'trace-id %s not kept for %r' % (tid, headers))
    check(pid != PID, 'parent-id not replaced')
    return r


def case_no_headers(h):
    h.single([]).traceparent()


def case_valid(h):
    keeps(h, [['traceparent', TP]])


def case_header_casing(h):
    for name in ('TraceParent', 'TrAcEpArEnT', 'TRACEPARENT'):
        keeps(h, [[name, TP]])


def case_header_name(h):
    restarts(h, [['trace-parent', TP]])
    restarts(h, [['trace.parent', TP]])


def case_duplicated(h):
    tid, _, _ = h.single([
        ['traceparent', '00-%s1-%s-01' % (TID[:-1], PID)],
        ['traceparent', TP]]).traceparent()
    check(tid not in (TID, TID[:-1] + '1'), 'duplicated traceparent kept')


def case_version(h):
    for v in ('ff', '.0', '0.', '000', '0000', '0'):
        restarts(h, [['traceparent', '%s-%s-%s-01' % (v, TID, PID)]])
    restarts(h, [['traceparent', TP + '.']])
    restarts(h, [['traceparent', TP + '-what-the-future-will-be-like']])
    keeps(h, [['traceparent', 'cc-%s-%s-01' % (TID, PID)]])
    keeps(h, [['traceparent',
               'cc-%s-%s-01-what-the-future-will-be-like' % (TID, PID)]])
    restarts(h, [['traceparent',
                  'cc-%s-%s-01.what-the-future-will-be-like' % (TID, PID)]])


def case_ids(h):
    bad = [
        '00-%s-%s-01' % ('0' * 32, PID),
        '00-.%s-%s-01' % (TID[1:], PID),
        '00-%s.-%s-01' % (TID[:-1], PID),
        '00-%s3-%s-01' % (TID, PID),
        '00-%s-%s-01' % (TID[:-1], PID),
        '00-%s-%s-01' % (TID, '0' * 16),
        '00-%s-.%s-01' % (TID, PID[1:]),
        '00-%s-%s.-01' % (TID, PID[:-1]),
        '00-%s-%s7-01' % (TID, PID),
        '00-%s-%s-01' % (TID, PID[:-1]),
        '00-%s-%s-01' % (TID.upper().replace('1', 'A'), PID),
    ]
    for tp in bad:
        restarts(h, [['traceparent', tp]])


def case_flags(h):
    for f in ('.0', '0.', '001', '1'):
        restarts(h, [['traceparent', '00-%s-%s-%s' % (TID, PID, f)]])


def case_ows(h):
    for tp in (' ' + TP, TP + ' ', '  ' + TP + '  '):
        keeps(h, [['traceparent', tp]])


def case_ows_tab(h):
    for tp in ('\t' + TP, TP + '\t', '\t ' + TP + ' \t'):
        keeps(h, [['traceparent', tp]])


def case_random_flag(h):
    _, _, flags = keeps(h, [['traceparent',
                             '00-%s-%s-02' % (TID, PID)]]).traceparent()
    check(flags & 0x02, 'random flag 0x02 not propagated (flags %02x)' % flags)


def case_tracestate_inherited(h):
    ts = keeps(h, [['traceparent', TP], ['tracestate', 'foo=1,bar=2']])
    check(ts.tracestate() == {'foo': '1', 'bar': '2'},
          'tracestate %r' % ts.raw_tracestate())


def case_tracestate_without_traceparent(h):
    r = h.single([['tracestate', 'foo=1,bar=2']])
    r.traceparent()
    check('foo' not in r.tracestate(), 'orphan tracestate propagated')


def case_tracestate_after_invalid_traceparent(h):
    r = h.single([['traceparent', '00-%s-%s-01' % ('0' * 32, PID)],
                  ['tracestate', 'foo=1']])
    check('foo' not in r.tracestate(), 'tracestate kept with bad parent')


def case_tracestate_multiple_fields(h):
    r = keeps(h, [['traceparent', TP], ['tracestate', 'foo=1,bar=2'],
                  ['tracestate', 'rojo=1,congo=2'], ['tracestate', 'baz=3']])
    raw = r.raw_tracestate()
    order = [raw.find(x) for x in
             ('foo=1', 'bar=2', 'rojo=1', 'congo=2', 'baz=3')]
    check(-1 not in order and order == sorted(order), 'order %r' % raw)


def case_tracestate_casing_and_empty(h):
    for name in ('TraceState', 'TrAcEsTaTe', 'TRACESTATE'):
        r = keeps(h, [['traceparent', TP], [name, 'foo=1']])
        check(r.tracestate().get('foo') == '1', '%s dropped' % name)
    keeps(h, [['traceparent', TP], ['tracestate', '']])
    for fields in ([['tracestate', 'foo=1'], ['tracestate', '']],
                   [['tracestate', ''], ['tracestate', 'foo=1']]):
        r = keeps(h, [['traceparent', TP]] + fields)
        check(r.tracestate().get('foo') == '1', 'empty field broke %r' %
              (fields,))


def case_tracestate_ows(h):
    for ts in ('foo=1 , bar=2,  baz=3', ' foo=1', 'foo=1 ', '  foo=1  '):
        r = keeps(h, [['traceparent', TP], ['tracestate', ts]])
        check(r.tracestate().get('foo') == '1', 'OWS %r' % ts)


def case_tracestate_ows_tab(h):
    for ts in ('foo=1 \t , \t bar=2, \t baz=3', 'foo=1\t \t,\t \tbar=2',
               '\tfoo=1', 'foo=1\t', '\t foo=1 \t'):
        r = keeps(h, [['traceparent', TP], ['tracestate', ts]])
        check(r.tracestate().get('foo') == '1', 'OWS %r' % ts)


def case_tracestate_discarded(h):
    for ts in ('foo =1', 'FOO=1', 'foo.bar=1', '@foo=1,bar=2',
               'foo=1,bar=2=3', 'foo=1,bar'):
        r = keeps(h, [['traceparent', TP], ['tracestate', ts]])
        check(not r.tracestate(), 'kept invalid %r' % ts)


def case_tracestate_level2_keys(h):
    for key in ('foo@', 'foo@@bar', 'foo@bar@baz'):
        r = keeps(h, [['traceparent', TP],
                      ['tracestate', key + '=1,bar=2']])
        check(r.tracestate().get('bar') == '2', 'L2 key %s refused' % key)


def case_tracestate_duplicates(h):
    for fields in ([['tracestate', 'foo=1,foo=1']],
                   [['tracestate', 'foo=1,foo=2']],
                   [['tracestate', 'foo=1'], ['tracestate', 'foo=1']],
                   [['tracestate', 'foo=1'], ['tracestate', 'foo=2']]):
        r = keeps(h, [['traceparent', TP]] + fields)
        raw = r.raw_tracestate()
        check(raw in ('foo=1', 'foo=2'), 'duplicates gave %r' % raw)


def case_tracestate_members(h):
    mk = lambda a, b: ','.join('bar%02d=%02d' % (i, i) for i in range(a, b))
    r = keeps(h, [['traceparent', TP], ['tracestate', mk(1, 11)],
                  ['tracestate', mk(11, 21)], ['tracestate', mk(21, 31)],
                  ['tracestate', mk(31, 33)]])
    check(len(r.tracestate()) == 32, '32 members: got %d' %
          len(r.tracestate()))
    r = keeps(h, [['traceparent', TP], ['tracestate', mk(1, 11)],
                  ['tracestate', mk(11, 21)], ['tracestate', mk(21, 31)],
                  ['tracestate', mk(31, 34)]])
    check(not r.tracestate(), '33 members kept')


def case_tracestate_key_length(h):
    r = keeps(h, [['traceparent', TP], ['tracestate', 'foo=1'],
                  ['tracestate', 'z' * 256 + '=1']])
    check(r.tracestate().get('foo') == '1', '256-char key refused')
    r = keeps(h, [['traceparent', TP], ['tracestate', 'foo=1'],
                  ['tracestate', 'z' * 257 + '=1']])
    check('foo' not in r.tracestate(), '257-char key kept')


def case_tracestate_512(h):
    # 32 members of 100 chars: more than 512 but each under 128, so the
    # right-most ones go; the result fits in 512 chars and keeps the left.
    members = ['k%02d=%s' % (i, 'v' * 96) for i in range(32)]
    r = keeps(h, [['traceparent', TP], ['tracestate', ','.join(members)]])
    raw = r.raw_tracestate()
    check(0 < len(raw) <= 512 and raw.startswith(members[0]),
          'truncation gave %d chars' % len(raw))


def case_three_callbacks(h):
    _, res = h.request([['traceparent', TP]], count=3)
    check(len(res) == 3, '%d callbacks' % len(res))
    ids = [r.traceparent() for r in res]
    check({t for t, _, _ in ids} == {TID}, 'trace-ids %r' % ids)
    check(len({p for _, p, _ in ids}) == 3, 'parent-ids not distinct')


def case_three_callbacks_no_parent(h):
    _, res = h.request([], count=3)
    check(len(res) == 3, '%d callbacks' % len(res))
    check(len({r.traceparent()[1] for r in res}) == 3, 'parent-ids')


def case_three_callbacks_invalid(h):
    _, res = h.request([['traceparent', '00-%s-%s-01' % ('0' * 32, PID)]],
                       count=3)
    check(len(res) == 3, '%d callbacks' % len(res))
    ids = [r.traceparent() for r in res]
    check('0' * 32 not in {t for t, _, _ in ids}, 'zero trace-id')
    check(len({p for _, p, _ in ids}) == 3, 'parent-ids not distinct')


def case_body_forwarded(h):
    args = [{'url': 'http://127.0.0.1:1/x', 'arguments': []}, 3, 'x']
    _, res = h.request([['traceparent', TP]], arguments=args)
    check(len(res) == 1, 'no callback')
    check(json.loads(res[0].body) == args, 'body %r' % res[0].body)
    check(any(k.lower() == 'content-type' and 'application/json' in v
              for k, v in res[0].headers), 'no JSON content type')


def case_chunked(h):
    status, res = h.request([['traceparent', TP]], chunked=True)
    check(status == 200, 'chunked body answered %d' % status)
    check(len(res) == 1, 'no callback for a chunked body')
    keeps(h, [['traceparent', TP]])  # and the service still works


CASES = [(n[5:], f) for n, f in sorted(globals().items())
         if n.startswith('case_')]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    h = Harness(sys.argv[1])
    failed = 0
    try:
        for name, fn in CASES:
            try:
                fn(h)
                print('ok - w3c %s' % name)
            except Fail as e:
                failed += 1
                print('not ok - w3c %s: %s' % (name, e))
            except (OSError, http.client.HTTPException) as e:
                failed += 1
                print('not ok - w3c %s: %s: %s' % (name, type(e).__name__, e))
            sys.stdout.flush()
    finally:
        h.close()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
