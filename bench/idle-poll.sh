#!/usr/bin/env bash
# The server's CPU while IMAP sessions sit in IDLE on one large INBOX: what every Thunderbird or
# Apple Mail account costs between mails. Delivers MESSAGES messages into a new mailbox, opens
# SESSIONS connections that LOGIN, SELECT INBOX and IDLE, then reads the server's CPU time from
# /proc over MEASURE_SECONDS.
#
#   bench/idle-poll.sh      (SESSIONS=100 MESSAGES=20000 MEASURE_SECONDS=10 to change)
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-100}
MESSAGES=${MESSAGES:-20000}
MEASURE_SECONDS=${MEASURE_SECONDS:-10}
PORT=${PORT:-27143}

work=$(mktemp -d /tmp/mailauth-idle.XXXXXX)
server=""
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release -v q --nologo src/MailAuth.Server >/dev/null
mailauth() { dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll "$@"; }
# Plain IMAP on loopback (PlaintextAuthNetworks), cheap hashing: this measures IDLE, not logins.
export MailAuth__DataDirectory="$work/data" MailAuth__BindAddress=127.0.0.1 MailAuth__Imap__Port=$PORT
export MailAuth__Imap__TlsPort=0 MailAuth__Smtp__SubmissionPort=0 MailAuth__Smtp__SubmissionsPort=0
export MailAuth__Hashing__MemoryKiB=1024 MailAuth__Hashing__Iterations=1
export MailAuth__Imap__MaxConnectionsPerAddress=$((SESSIONS + 10))
mailauth domain add bench.example >/dev/null
echo "idle-pass 1" | mailauth mailbox add idle@bench.example >/dev/null
# Straight into cur/, as in a mailbox that has been read for years: new/ stays a small directory.
inbox="$work/data/mail/bench.example/idle"
mkdir -p "$inbox/new" "$inbox/cur" "$inbox/tmp"
python3 - "$inbox/cur" "$MESSAGES" <<'PY'
import sys
for i in range(int(sys.argv[2])):
    with open(f"{sys.argv[1]}/1700000000.M{i}P1.bench,S=60:2,S", "w") as f:
        f.write(f"Subject: message {i}\r\nFrom: a@bench.example\r\n\r\nbody\r\n")
PY
dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 150); do grep -q "listening imap" "$work/server.log" && break; sleep 0.2; done

python3 - "$PORT" "$SESSIONS" "$MEASURE_SECONDS" "$server" "$MESSAGES" <<'PY'
import os, socket, sys, time
port, sessions, seconds, pid, messages = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
def command(connection, reader, tag, text):
    connection.sendall(f"{tag} {text}\r\n".encode())
    while not (line := reader.readline()).startswith(tag.encode() + b" "):
        pass
    if not line.startswith(tag.encode() + b" OK"):
        sys.exit(f"{text.split()[0]}: {line!r}")
open_sessions = []
for _ in range(sessions):
    connection = socket.create_connection(("127.0.0.1", port))
    reader = connection.makefile("rb")
    reader.readline()
    command(connection, reader, "a", 'LOGIN idle@bench.example "idle-pass 1"')
    command(connection, reader, "s", "SELECT INBOX")
    connection.sendall(b"i IDLE\r\n")
    if not reader.readline().startswith(b"+"):
        sys.exit("IDLE refused")
    open_sessions.append((connection, reader))
time.sleep(3)
before = cpu_seconds()
time.sleep(seconds)
used = cpu_seconds() - before
print(f"{sessions} IDLE sessions on a {messages}-message INBOX: server CPU {100 * used / seconds:.1f} % of a core")
PY
