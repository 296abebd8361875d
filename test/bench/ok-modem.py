#!/usr/bin/env python3
"""A bank of minimal Hayes modems on ptys, for the memory benchmark (daemon.bench.ts).

It is Python, not the project's simulator (Node), on purpose: a Node modem side would map
the same node binary as the getty, and PSS splits every shared page between the two, so
the getty's memory would look smaller than it is when it is the only Node process on the
machine (issue 21).

    ok-modem.py DIR N

creates N ptys, links DIR/ttySIM0 ... DIR/ttySIM<N-1> to their slave devices, prints
`ready N` on stdout and then answers every command line: `AT...` gets its echo (unless
ATE0) and `OK`, `ATA` gets `NO CARRIER`, anything else `ERROR`. It never rings. It holds
each slave open itself while no getty has the line, so the master never reads EIO
(a getty's takeover may hang that fd up: the reads go on through the getty's own open).
SIGTERM or SIGINT removes the links and exits.
"""
import os
import selectors
import signal
import sys
import termios
import tty


def main() -> int:
    if len(sys.argv) != 3:
        sys.stderr.write('usage: ok-modem.py DIR N\n')
        return 2
    directory, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    sel = selectors.DefaultSelector()
    links = []
    keep = []
    for i in range(n):
        master, slave = os.openpty()
        # The slave raw as a getty would set it; the getty sets its own termios anyway.
        tty.setraw(slave, termios.TCSANOW)
        os.set_blocking(master, False)
        link = os.path.join(directory, f'ttySIM{i}')
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(slave), link)
        links.append(link)
        keep.append(slave)
        sel.register(master, selectors.EVENT_READ, {'buf': b'', 'echo': True})

    def stop(_sig, _frame):
        for link in links:
            try:
                os.unlink(link)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f'ready {n}\n')
    sys.stdout.flush()
    while True:
        for key, _ in sel.select():
            fd, st = key.fd, key.data
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                # EIO: no slave open for a moment (a getty closed the line). Do not spin.
                sel.unregister(fd)
                os.close(fd)
                continue
            st['buf'] += data
            while b'\r' in st['buf']:
                line, st['buf'] = st['buf'].split(b'\r', 1)
                cmd = line.strip().upper()
                if not cmd:
                    continue
                out = (line + b'\r') if st['echo'] else b''
                if cmd == b'ATA':
                    out += b'\r\nNO CARRIER\r\n'
                elif cmd.startswith(b'AT'):
                    if b'E0' in cmd:
                        st['echo'] = False
                    elif b'E1' in cmd:
                        st['echo'] = True
                    out += b'\r\nOK\r\n'
                else:
                    out += b'\r\nERROR\r\n'
                try:
                    os.write(fd, out)
                except OSError:
                    pass


if __name__ == '__main__':
    sys.exit(main())
