"""Measurements for bench/nodes-postgresql.sh (see there): login latencies, round trips to
PostgreSQL counted on the wire by a relay, and the cross-node invalidation delay."""
import datetime, os, re, select, socket, struct, subprocess, sys, threading, time


def login(port, address, password):
    """One IMAP LOGIN on a new plain connection (loopback): (tagged answer, seconds for the LOGIN)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        f = s.makefile("rb")
        f.readline()
        quoted = password.replace("\\", "\\\\").replace('"', '\\"')
        started = time.perf_counter()
        s.sendall(f'a LOGIN {address} "{quoted}"\r\n'.encode())
        while not (line := f.readline()).startswith(b"a "):
            pass
        took = time.perf_counter() - started
        s.sendall(b"b LOGOUT\r\n")
        return line.decode().strip(), took


def median(values):
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def timings(port, users):
    """Cold: each user's first login after the server started; repeat: the same again (cached)."""
    cold, repeat = [], []
    for rounds in (cold, repeat):
        for address, password in users:
            answer, took = login(port, address, password)
            assert answer.startswith("a OK"), answer
            rounds.append(took * 1000)
    print(f"{median(cold):.2f} {median(repeat):.2f}")


class Relay:
    """PostgreSQL relay counting client round trips: a Sync or Query after which the client sends
    nothing more until answered (Npgsql writes a round trip's messages at once)."""

    def __init__(self, listen, target):
        self.count, self.target = 0, target
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", listen))
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.copy, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self.count_from, args=(client, upstream), daemon=True).start()

    @staticmethod
    def copy(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def count_from(self, client, upstream):
        buffer, started = b"", False
        try:
            while True:
                while True:
                    if not started and len(buffer) >= 4:
                        length = struct.unpack("!i", buffer[:4])[0]
                        if len(buffer) >= length:
                            code = struct.unpack("!i", buffer[4:8])[0]
                            started = code not in (80877103, 80877104)
                            upstream.sendall(buffer[:length]); buffer = buffer[length:]
                            continue
                    elif started and len(buffer) >= 5:
                        length = struct.unpack("!i", buffer[1:5])[0] + 1
                        if len(buffer) >= length:
                            kind = buffer[:1]
                            upstream.sendall(buffer[:length]); buffer = buffer[length:]
                            if kind in (b"S", b"Q") and not buffer and not select.select([client], [], [], 0)[0]:
                                with self.lock:
                                    self.count += 1
                            continue
                    break
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
        except OSError:
            pass
        self.copy(client, upstream)


def round_trips(port, relay, users):
    """Round trips per login kind, each the median over the users given."""
    address, password = users[0]
    kinds = {"verified (cold)": [], "cached (repeat)": [], "wrong password": [], "unknown address": []}
    for i, (address, password) in enumerate(users):
        for kind, who, secret in (("verified (cold)", address, password), ("cached (repeat)", address, password),
                                  ("wrong password", address, "wrong-" + password), ("unknown address", f"nobody{i}@bench.example", "x")):
            before = relay.count
            login(port, who, secret)
            time.sleep(0.05)  # the settle write of a failure may still be on its way
            kinds[kind].append(relay.count - before)
    for kind, counts in kinds.items():
        print(f"{kind}\t{median(counts):g}")


def written_at(psql, address):
    """When the CLI wrote the change (the change log's time, on this machine's clock), in seconds."""
    at = subprocess.check_output(psql + ["-c", f"SELECT at FROM mailbox_changes WHERE address = '{address}' ORDER BY id DESC LIMIT 1"]).decode().strip()
    at = re.sub(r"(\.\d{6})\d*", r"\1", at).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(at).timestamp()


def invalidation(port_b, users, cli_env, psql):
    """Per change: a session open on node B, `mailbox passwd` run with node A's configuration;
    delay from the change being written (the change log's time: before its commit and NOTIFY) to
    node B ending the session (the BYE read by the client)."""
    delays = []
    for address, password in users:
        s = socket.create_connection(("127.0.0.1", port_b))
        f = s.makefile("rb")
        f.readline()
        s.sendall(f'a LOGIN {address} "{password}"\r\n'.encode())
        while not (line := f.readline()).startswith(b"a "):
            pass
        assert line.startswith(b"a OK"), line
        ended = {}

        def watch():
            while (line := f.readline()) and not line.startswith(b"* BYE"):
                pass
            ended["at"] = time.time()

        watcher = threading.Thread(target=watch)
        watcher.start()
        cli = subprocess.Popen(cli_env["command"] + ["mailbox", "passwd", address], env=cli_env["env"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cli.stdin.write(b"New-pass-word-" + password.encode() + b"\n"); cli.stdin.close()
        cli.wait()
        watcher.join(10)
        s.close()
        assert "at" in ended, "node B did not end the session within 10 s"
        refused, _ = login(port_b, address, password)
        assert refused.startswith("a NO"), refused
        delays.append((ended["at"] - written_at(psql, address)) * 1000)
    print(f"{median(delays):.1f} {p99(delays):.1f} {min(delays):.1f} {max(delays):.1f}")


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    users = [tuple(line.rstrip("\n").split(":", 1)) for line in open(sys.argv[3])]
    if what == "timings":
        timings(port, users)
    elif what == "round-trips":
        relay = Relay(int(sys.argv[4]), int(sys.argv[5]))
        # The node connects through the relay: it is started by the caller once the relay listens.
        open(sys.argv[6], "w").close()
        while not os.path.exists(sys.argv[7]):
            time.sleep(0.1)
        round_trips(port, relay, users)
    elif what == "invalidation":
        invalidation(port, users, {"command": sys.argv[4].split(), "env": dict(os.environ)}, sys.argv[5].split())
