#!/usr/bin/env python3
"""A loopback TCP proxy in front of ClickHouse's HTTP port that lets the
first INSERT into each named table through to the server and withholds
the server's answer: the insert is committed, the client never hears so
and times out (test_clickhouse_insert_timeout.sh).

usage: ch_withhold_proxy.py UPSTREAM_PORT PORT_FILE LOG_FILE TABLE...
Listens on a free port of 127.0.0.1 and writes it to PORT_FILE; writes a
line "withheld TABLE" to LOG_FILE per answer it kept back."""
import asyncio
import sys

UPSTREAM = int(sys.argv[1])
PORT_FILE, LOG_FILE = sys.argv[2], sys.argv[3]
PENDING = set(sys.argv[4:])


def insert_target(data):
    """The pending table an INSERT request line in data names, if any."""
    for t in list(PENDING):
        if b"query=INSERT%20INTO%20" + t.encode() + b"%20" in data:
            return t
    return None


async def pump(reader, writer, conn, upstream_side):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if upstream_side:
                t = insert_target(data)
                if t is not None:
                    PENDING.discard(t)
                    conn["withhold"] = t
            elif conn.get("withhold"):
                if not conn.get("logged"):
                    conn["logged"] = True
                    with open(LOG_FILE, "a") as f:
                        f.write("withheld %s\n" % conn["withhold"])
                continue  # the answer is dropped; the client waits
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if upstream_side or not conn.get("withhold"):
            writer.close()


async def handle(client_r, client_w):
    try:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    except OSError:
        client_w.close()
        return
    conn = {}
    await asyncio.gather(pump(client_r, up_w, conn, True),
                         pump(up_r, client_w, conn, False))
    client_w.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    async with server:
        await server.serve_forever()

asyncio.run(main())
