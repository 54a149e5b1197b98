#!/usr/bin/env python3
"""A local SMTP server for paidoc's mail tests (Debian's python3-aiosmtpd).

Accepts every message on 127.0.0.1 and writes it, as received, to
DIR/0001.eml, DIR/0002.eml, ... (written under a temporary name, then
renamed, so a reader never sees half a message). The first line of each
file is "X-Envelope-To: <recipients>", then the message.

Prints the port it listens on as one line when it is ready, then runs until
its standard input closes (the test that started it ended, even by a crash)
or it gets SIGTERM/SIGINT.

    python3 tests/support/smtp_standin.py --dir DIR [--port PORT]
"""
import argparse
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        tmp = os.path.join(self.folder, ".%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.folder, "%04d.eml" % n))
        return "250 OK"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Saver(args.dir), hostname="127.0.0.1", port=args.port or free_port())
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(controller.port, flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
