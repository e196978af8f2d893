#!/usr/bin/env python3
"""Records what an RFB server sends a client, for decoder benchmarks.

Connects without authentication (security type None), asks for the
framebuffer in the host pixel format (32 bpp, depth 24, little-endian
0x00RRGGBB), offers exactly the given encodings and pseudo-encodings, and
keeps asking for incremental updates. Everything the server sends after
ServerInit is saved, behind a small header:

    b"VMMRFB1\\n", u16 width, u16 height (big-endian)

Recording stops once --seconds have passed and the server has then been
quiet for --quiet seconds (or --max-wait passed).

Usage: rfb_record.py HOST PORT OUT --encodings 16,-239 [--seconds 10]
"""

import argparse
import select
import socket
import struct
import sys
import time


def recvn(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit("server closed the connection during the handshake")
        buf += chunk
    return buf


def handshake(sock, encodings):
    version = recvn(sock, 12)
    if not version.startswith(b"RFB 003."):
        raise SystemExit(f"not an RFB server: {version!r}")
    sock.sendall(b"RFB 003.008\n")
    count = recvn(sock, 1)[0]
    if count == 0:
        length = struct.unpack(">I", recvn(sock, 4))[0]
        raise SystemExit("refused: " + recvn(sock, length).decode(errors="replace"))
    types = recvn(sock, count)
    if 1 not in types:
        raise SystemExit(f"security type None not offered ({list(types)})")
    sock.sendall(b"\x01")
    if struct.unpack(">I", recvn(sock, 4))[0] != 0:
        raise SystemExit("security handshake failed")
    sock.sendall(b"\x01")  # shared: several recorders watch one server
    init = recvn(sock, 24)
    width, height = struct.unpack(">HH", init[:4])
    recvn(sock, struct.unpack(">I", init[20:24])[0])  # desktop name
    pixel_format = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    sock.sendall(b"\x00\x00\x00\x00" + pixel_format)
    sock.sendall(struct.pack(">BxH", 2, len(encodings)) + b"".join(struct.pack(">i", e) for e in encodings))
    return width, height


def request(sock, width, height, incremental):
    sock.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, width, height))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("--encodings", required=True, help="comma-separated, in order of preference")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--quiet", type=float, default=1.5)
    ap.add_argument("--max-wait", type=float, default=20.0)
    ap.add_argument("--interval", type=float, default=0.04, help="between update requests")
    ap.add_argument("--pointer", help="X,Y: say the pointer is there (where it already is), so the server never draws it into the pixels")
    args = ap.parse_args()
    encodings = [int(e) for e in args.encodings.split(",")]

    sock = socket.create_connection((args.host, args.port), timeout=10)
    width, height = handshake(sock, encodings)
    sock.settimeout(None)
    if args.pointer:
        x, y = (int(v) for v in args.pointer.split(","))
        sock.sendall(struct.pack(">BBHH", 5, 0, x, y))
    request(sock, width, height, 0)
    start = time.monotonic()
    last_data = start
    next_request = start + args.interval
    total = 0
    with open(args.out, "wb") as out:
        out.write(b"VMMRFB1\n" + struct.pack(">HH", width, height))
        while True:
            now = time.monotonic()
            if now - start > args.seconds and now - last_data > args.quiet:
                break
            if now - start > args.seconds + args.max_wait:
                print("warning: the server never went quiet", file=sys.stderr)
                break
            if now >= next_request:
                request(sock, width, height, 1)
                next_request = now + args.interval
            ready, _, _ = select.select([sock], [], [], max(0.0, next_request - now))
            if ready:
                data = sock.recv(1 << 20)
                if not data:
                    break
                out.write(data)
                total += len(data)
                last_data = time.monotonic()
    print(f"{args.out}: {width}x{height}, {total} bytes")


if __name__ == "__main__":
    main()
