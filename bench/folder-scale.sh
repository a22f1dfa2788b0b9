#!/usr/bin/env bash
# A large INBOX, MailAuth and Dovecot side by side: builds one Maildir of SIZE messages (varied
# headers, a third unread), gives each server its own copy, and times the commands a mail client
# sends on it: LOGIN + SELECT, STATUS from a second connection, NOOP (mean of 10), UID FETCH 1:*
# (UID FLAGS), the message list (Thunderbird's FETCH 1:* with ENVELOPE, BODYSTRUCTURE and its header
# fields), SEARCH FROM, COPY of 100 messages into the INBOX, STORE on one message, APPEND of one message.
# Each size runs ROUNDS rounds, the servers taking turns to go first, after one unmeasured round
# (Dovecot builds its index then, MailAuth its own); the table gives the medians and MailAuth / Dovecot.
#
#   bench/folder-scale.sh      (SIZES="10000 100000" ROUNDS=3 BASE_PORT=21000 to change)
#   MAILAUTH_TREE=/tmp/old bench/folder-scale.sh     (another checkout's build, e.g. a before/after)
#   KEEP=1 bench/folder-scale.sh                     (keeps the mailboxes and logs in /tmp/mailauth-scale.*)
#
# Plain IMAP on loopback for both; Dovecot (Debian's dovecot-imapd) runs privately on
# BASE_PORT+50 with login and imap process reuse (as bench/imaptest.sh), without it only MailAuth
# is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

SIZES=${SIZES:-"10000 100000"}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-21000}
TREE=$(cd "${MAILAUTH_TREE:-.}" && pwd)
MAILAUTH_PORT=$BASE_PORT
DOVECOT_PORT=$((BASE_PORT + 50))

work=$(mktemp -d /tmp/mailauth-scale.XXXXXX)
chmod 755 "$work" # Dovecot's processes run as nobody.
server=""
dovecot_conf=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    [ -z "$dovecot_conf" ] || dovecot -c "$dovecot_conf" stop 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release -v q --nologo "$TREE/src/MailAuth.Server" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 2; }
mailauth="$TREE/src/MailAuth.Server/bin/Release/net10.0/mailauth"
export MailAuth__DataDirectory="$work/mailauth" MailAuth__BindAddress=127.0.0.1 MailAuth__Imap__Port=$MAILAUTH_PORT
export MailAuth__Imap__TlsPort=0 MailAuth__Smtp__SubmissionPort=0 MailAuth__Smtp__SubmissionsPort=0
export MailAuth__Hashing__MemoryKiB=1024 MailAuth__Hashing__Iterations=1
"$mailauth" domain add bench.example >/dev/null
# A small mailbox logged in first after each restart: the large folder's row then measures its
# load, not the server's start (code compiled on first use, Dovecot's processes spawned).
echo "scale-pass" | "$mailauth" mailbox add warmup@bench.example >/dev/null

dovecot=no
if command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/imap ]; then
    dovecot=yes
    d=$work/dovecot
    mkdir -p "$d/run" "$d/state" "$d/mail"
    echo "warmup:{PLAIN}scale-pass" >"$d/users"
    mkdir -p "$d/mail/warmup/Maildir/cur" "$d/mail/warmup/Maildir/new" "$d/mail/warmup/Maildir/tmp"
    chown -R nobody:nogroup "$d/mail/warmup"
    dovecot_conf=$d/dovecot.conf
    cat >"$dovecot_conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = mailauth-folder-scale
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:$d/mail/%n/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
}
service imap {
  service_count = 0
  process_min_avail = 2
  client_limit = 1
}
service stats {
  inet_listener http {
    port = 0
  }
}
CONF
else
    echo "bench/folder-scale.sh: Dovecot's imap service is not installed (apt-get install dovecot-imapd): MailAuth only"
fi

echo "== $(cd "$TREE" && git rev-parse --short HEAD 2>/dev/null || echo "$TREE"), $(nproc) cores, $ROUNDS rounds (medians), plain IMAP on loopback"
for size in $SIZES; do
    user="scale$size"
    echo "scale-pass" | "$mailauth" mailbox add "$user@bench.example" >/dev/null
    inbox="$work/mailauth/mail/bench.example/$user"
    mkdir -p "$inbox/new" "$inbox/cur" "$inbox/tmp"
    python3 - "$inbox/cur" "$size" <<'PY'
import os, sys
folder, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    body = f"Message {i} of the folder-scale benchmark.\r\n" * (1 + i % 20)
    text = (f"From: Sender {i % 97} <sender{i % 97}@bench.example>\r\nTo: scale@bench.example\r\n"
            f"Subject: message {i} about topic {i % 31}\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
            f"Message-ID: <{i}@bench.example>\r\n\r\n{body}")
    data = text.encode()
    name = f"{1700000000 + i}.M{i}P1.bench,S={len(data)}:2,{'' if i % 3 == 0 else 'S'}"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    os.utime(os.path.join(folder, name), (1700000000 + i, 1700000000 + i))
PY
    if [ "$dovecot" = yes ]; then
        echo "$user:{PLAIN}scale-pass" >>"$d/users"
        mkdir -p "$d/mail/$user/Maildir"
        cp -a "$inbox/cur" "$inbox/new" "$inbox/tmp" "$d/mail/$user/Maildir/"
        chown -R nobody:nogroup "$d/mail/$user"
    fi
done
chmod 644 "${d:-$work}/users" 2>/dev/null || true

"$mailauth" serve >"$work/mailauth.log" 2>&1 &
server=$!
wait_port "$MAILAUTH_PORT" "$server" || { echo "MailAuth did not start:"; tail "$work/mailauth.log"; exit 2; }
if [ "$dovecot" = yes ]; then
    dovecot -c "$dovecot_conf" 2>/dev/null && wait_port "$DOVECOT_PORT" || { echo "Dovecot did not start: MailAuth only"; dovecot=no; dovecot_conf=""; }
fi

cat >"$work/client.py" <<'PY'
import socket, statistics, sys, time

class Connection:
    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.reader = self.socket.makefile("rb")
        self.reader.readline()
        self.tag = 0
    def command(self, text, literal=None):
        self.tag += 1
        tag = f"t{self.tag}".encode()
        if literal is None:
            self.socket.sendall(tag + b" " + text.encode() + b"\r\n")
        else:
            self.socket.sendall(tag + b" " + text.encode() + f" {{{len(literal)}}}\r\n".encode())
            if not self.reader.readline().startswith(b"+"):
                sys.exit(f"{text}: no continuation")
            self.socket.sendall(literal + b"\r\n")
        while True:
            line = self.reader.readline()
            if not line:
                sys.exit(f"{text}: connection closed")
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    sys.exit(f"{text}: {line!r}")
                return
            if line.rstrip().endswith(b"}"):  # a literal in a response: skip its bytes
                self.reader.read(int(line.rstrip()[:-1].rsplit(b"{", 1)[1]))
    def close(self):
        self.command("LOGOUT")
        self.socket.close()

def timed(action):
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000

def ms(value):
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"

if sys.argv[1] == "first-select":  # port user: the first LOGIN + SELECT of a server just started
    port, user = int(sys.argv[2]), sys.argv[3]
    def login_select():
        connection = Connection(port)
        connection.command(f"LOGIN {user} scale-pass")
        connection.command("SELECT INBOX")
    print(f"{timed(login_select):.3f}")
    sys.exit(0)
if sys.argv[1] == "row":  # operation size mailauth-times [dovecot-times]: a table row of medians
    medians = [statistics.median(float(t) for t in times.split(",")) for times in sys.argv[4:]]
    ratio = f" | {medians[0] / medians[1]:.2f}" if len(medians) == 2 and medians[1] > 0 else ""
    print(f"| {sys.argv[2]} | {int(sys.argv[3]):,} | {' | '.join(ms(m) for m in medians)}{ratio} |")
    sys.exit(0)
mailauth_port, dovecot_port, rounds, sizes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), [int(s) for s in sys.argv[4:]]
servers = [("MailAuth", mailauth_port, "@bench.example")] + ([("Dovecot", dovecot_port, "")] if dovecot_port else [])

def one_round(port, user, round_number):
    results = {}
    selected = None
    def login_select():
        nonlocal selected
        selected = Connection(port)
        selected.command(f"LOGIN {user} scale-pass")
        selected.command("SELECT INBOX")
    other = Connection(port)
    other.command(f"LOGIN {user} scale-pass")
    results["LOGIN + SELECT INBOX"] = timed(login_select)
    results["STATUS INBOX from another connection"] = timed(lambda: other.command("STATUS INBOX (MESSAGES UIDNEXT UNSEEN)"))
    results["NOOP (mean of 10)"] = timed(lambda: [selected.command("NOOP") for _ in range(10)]) / 10
    results["UID FETCH 1:* (UID FLAGS)"] = timed(lambda: selected.command("UID FETCH 1:* (UID FLAGS)"))
    results["FETCH 1:* (… ENVELOPE) message list"] = timed(lambda: selected.command(
        "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date "
        "Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])"))
    results["SEARCH FROM someone"] = timed(lambda: selected.command('SEARCH FROM "sender42@"'))
    results["COPY 100 messages into INBOX"] = timed(lambda: selected.command("COPY 1:100 INBOX"))
    sign = "+" if round_number % 2 == 0 else "-"
    results["STORE one message"] = timed(lambda: selected.command(f"STORE 7 {sign}FLAGS (\\Flagged)"))
    message = b"From: a@bench.example\r\nSubject: appended\r\n\r\nappended body\r\n"
    results["APPEND one message"] = timed(lambda: selected.command("APPEND INBOX", message))
    selected.close()
    other.close()
    return results

rows = []
for size in sizes:
    user = f"scale{size}"
    for name, port, domain in servers:
        one_round(port, user + domain, -1)  # warm-up: indexes built, code compiled
    measured = {name: [] for name, _, _ in servers}
    for r in range(rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for name, port, domain in order:
            measured[name].append(one_round(port, user + domain, r))
    for operation in measured["MailAuth"][0]:
        medians = [statistics.median(run[operation] for run in measured[name]) for name, _, _ in servers]
        rows.append((operation, size, medians))

names = [name for name, _, _ in servers]
print(f"| operation | messages | {' | '.join(n + ' ms' for n in names)}{' | ratio' if len(names) == 2 else ''} |")
print(f"|---|---:|{'---:|' * (len(names) + (1 if len(names) == 2 else 0))}")
for operation, size, medians in rows:
    ratio = f" | {medians[0] / medians[1]:.2f}" if len(medians) == 2 and medians[1] > 0 else ""
    print(f"| {operation} | {size:,} | {' | '.join(ms(m) for m in medians)}{ratio} |")
PY
python3 "$work/client.py" "$MAILAUTH_PORT" "$([ "$dovecot" = yes ] && echo "$DOVECOT_PORT" || echo 0)" "$ROUNDS" $SIZES
echo "MailAuth peak resident memory after those rounds: $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server/status)"

# After a restart: each server reads what it kept on disk (its index) instead of what it had in memory.
declare -A first_mailauth first_dovecot
for round in $(seq "$ROUNDS"); do
    kill "$server"; wait "$server" 2>/dev/null || true
    "$mailauth" serve >>"$work/mailauth.log" 2>&1 &
    server=$!
    wait_port "$MAILAUTH_PORT" "$server" || { echo "MailAuth did not restart"; exit 2; }
    if [ "$dovecot" = yes ]; then
        dovecot -c "$dovecot_conf" stop 2>/dev/null
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$DOVECOT_PORT) 2>/dev/null || break; sleep 0.1; done
        dovecot -c "$dovecot_conf" 2>/dev/null && wait_port "$DOVECOT_PORT"
    fi
    python3 "$work/client.py" first-select "$MAILAUTH_PORT" "warmup@bench.example" >/dev/null
    [ "$dovecot" = yes ] && python3 "$work/client.py" first-select "$DOVECOT_PORT" "warmup" >/dev/null
    for size in $SIZES; do
        first_mailauth[$size]+="${first_mailauth[$size]:+,}$(python3 "$work/client.py" first-select "$MAILAUTH_PORT" "scale$size@bench.example")"
        [ "$dovecot" = yes ] && first_dovecot[$size]+="${first_dovecot[$size]:+,}$(python3 "$work/client.py" first-select "$DOVECOT_PORT" "scale$size")"
    done
done
for size in $SIZES; do
    python3 "$work/client.py" row "first LOGIN + SELECT after a restart" "$size" "${first_mailauth[$size]}" ${first_dovecot[$size]:+"${first_dovecot[$size]}"}
done
