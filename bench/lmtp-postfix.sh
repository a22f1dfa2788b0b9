#!/usr/bin/env bash
# Mail from the internet, MailAuth and Dovecot side by side: one private Postfix (Debian's, as the
# MX) delivers the same COUNT messages over LMTP on a UNIX socket into MailAuth
# (MailAuth:Lmtp:SocketPath) and into Dovecot's LMTP (Debian's dovecot-lmtpd), and the script
# reports messages delivered per second. Per run: the messages are sent to Postfix over SMTP and
# held in its queue (defer_transports), then `postqueue -f` releases them and the clock runs
# until the last one is in the Maildir's new/. RUNS runs per server, the servers taking turns to
# go first, after one unmeasured warm-up each; medians and MailAuth / Dovecot.
#
#   bench/lmtp-postfix.sh        (COUNT=300 RUNS=3 SIZE=4000 BASE_PORT=21700 to change; KEEP=1 keeps /tmp/mailauth-lmtp.*)
#
# Same for both: the Postfix, its queue and lmtp client settings (up to 20 parallel deliveries),
# the recipient lookups (static, in main.cf: the LMTP delivery is what is compared), one mailbox,
# and fsync before each 250 (MailAuth always; Dovecot mail_fsync = always). Dovecot's lmtp
# processes are kept and reused (service_count = 0, process_min_avail = 4: its fastest set-up,
# as in bench/imaptest.sh). Run as root: a
# private Postfix is started with `postfix -c DIR start`.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

COUNT=${COUNT:-300}
RUNS=${RUNS:-3}
SIZE=${SIZE:-4000}
BASE_PORT=${BASE_PORT:-21700}
SMTP_PORT=$BASE_PORT
[ "$(id -u)" = 0 ] || { echo "bench/lmtp-postfix.sh: run as root (a private Postfix instance)" >&2; exit 2; }
[ -x /usr/sbin/postfix ] || { echo "bench/lmtp-postfix.sh: Postfix is not installed (apt-get install postfix)" >&2; exit 2; }
[ "$COUNT" -le 5000 ] && [ "$RUNS" -le 10 ] || { echo "bench/lmtp-postfix.sh: keep it bounded: COUNT<=5000, RUNS<=10" >&2; exit 2; }

work=$(mktemp -d /tmp/mailauth-lmtp.XXXXXX)
chmod 755 "$work" # Postfix's and Dovecot's processes run as other users.
server=""
postfix_conf=""
dovecot_conf=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    [ -z "$postfix_conf" ] || postfix -c "$postfix_conf" stop 2>/dev/null || true
    [ -z "$dovecot_conf" ] || dovecot -c "$dovecot_conf" stop 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# MailAuth: LMTP on a socket in a set-group-ID directory of the postfix group, so that the socket
# (0660) is Postfix's to connect to (README "Mail from the internet").
dotnet build -c Release -v q --nologo src/MailAuth.Server >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 2; }
mailauth=src/MailAuth.Server/bin/Release/net10.0/mailauth
sockets=$work/sockets
mkdir -p "$sockets" && chgrp postfix "$sockets" && chmod 2750 "$sockets"
export MailAuth__DataDirectory="$work/mailauth" MailAuth__BindAddress=127.0.0.1 MailAuth__Imap__Port=$((BASE_PORT + 1))
export MailAuth__Imap__TlsPort=0 MailAuth__Smtp__SubmissionPort=0 MailAuth__Smtp__SubmissionsPort=0
export MailAuth__Hashing__MemoryKiB=1024 MailAuth__Hashing__Iterations=1
export MailAuth__Lmtp__SocketPath="$sockets/lmtp.sock"
"$mailauth" domain add ma.example >/dev/null
echo "bench-pass" | "$mailauth" mailbox add bench@ma.example >/dev/null
"$mailauth" serve >"$work/mailauth.log" 2>&1 &
server=$!
wait_file "$sockets/lmtp.sock" || { echo "MailAuth did not start:"; tail "$work/mailauth.log"; exit 2; }

dovecot=no
if command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/lmtp ]; then
    d=$work/dovecot
    dovecot_conf=$d/dovecot.conf
    mkdir -p "$d"
    { dovecot_base_conf "$d" mailauth-lmtp-bench; cat <<CONF; } >"$dovecot_conf"
protocols = lmtp
mail_location = maildir:$d/mail/%n/Maildir
mail_fsync = always
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%n allow_all_users=yes
}
service lmtp {
  unix_listener $d/lmtp {
    mode = 0666
  }
  service_count = 0
  process_min_avail = 4
}
CONF
    if dovecot -c "$dovecot_conf" 2>>"$work/dovecot-start.log" && wait_file "$d/lmtp"; then
        dovecot=yes
    else
        echo "bench/lmtp-postfix.sh: Dovecot's LMTP did not start (apt-get install dovecot-lmtpd): MailAuth only"
        cat "$work/dovecot-start.log" 2>/dev/null
        dovecot_conf=""
    fi
else
    echo "bench/lmtp-postfix.sh: Dovecot's LMTP is not installed (apt-get install dovecot-lmtpd): MailAuth only"
fi

# Postfix: Debian's master.cf without the port-25 listener and without chroot (a private instance
# has no copy of /etc in its queue), one lmtp transport per server, both held until flushed.
p=$work/postfix
postfix_conf=$p/conf
mkdir -p "$postfix_conf" "$p/queue" "$p/data"
chown postfix "$p/data"
cat >"$postfix_conf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $p/queue
data_directory = $p/data
maillog_file = $p/maillog
maillog_file_prefixes = $work
myhostname = mx.bench.example
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_error_sleep_time = 0
virtual_mailbox_domains = ma.example, dc.example
virtual_mailbox_maps = static:OK
transport_maps = inline:{ ma.example=mailauth:unix:$sockets/lmtp.sock, dc.example=dovecot:unix:${d:-/nonexistent}/lmtp }
defer_transports = mailauth dovecot
CONF
awk '/^smtp[ \t]+inet/ { next } /^[a-z]/ && NF >= 8 { $5 = "n" } { print }' /etc/postfix/master.cf >"$postfix_conf/master.cf"
cat >>"$postfix_conf/master.cf" <<CONF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
mailauth unix - - n - - lmtp
dovecot unix - - n - - lmtp
CONF
postfix -c "$postfix_conf" start >/dev/null 2>&1 || { echo "Postfix did not start:"; tail "$p/maillog"; exit 2; }
wait_port "$SMTP_PORT" || { echo "Postfix does not answer:"; tail "$p/maillog"; exit 2; }

# One run: COUNT messages of about SIZE bytes to RCPT, queued and held; then the flush, timed until
# the last is in NEW. Prints messages per second.
cat >"$work/run.py" <<'PY'
import os, smtplib, subprocess, sys, time
port, count, size, rcpt, new, config, queue = sys.argv[1:]
count, size = int(count), int(size)
def files(path):
    return sum(len(f) for _, _, f in os.walk(path)) if os.path.isdir(path) else 0
before = files(new)
line = b"The quick brown fox jumps over the lazy dog; 0123456789 abcdefghij.\r\n"
body = line * max(1, size // len(line))
client = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
for i in range(count):
    head = (f"From: <bench@sender.example>\r\nTo: <{rcpt}>\r\nSubject: bench {i}\r\n"
            f"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{i}.{time.time_ns()}@sender.example>\r\n\r\n").encode()
    client.sendmail("bench@sender.example", [rcpt], head + body)
client.quit()
deadline = time.monotonic() + 60
while files(os.path.join(queue, "deferred")) < count:
    if time.monotonic() > deadline: sys.exit("messages not all held in the queue")
    time.sleep(0.02)
start = time.monotonic()
subprocess.run(["postqueue", "-c", config, "-f"], check=True)
while files(new) < before + count:
    if time.monotonic() - start > 120: sys.exit("messages not all delivered")
    time.sleep(0.005)
print(f"{count / (time.monotonic() - start):.1f}")
PY
run() { # server count
    if [ "$1" = mailauth ]; then
        python3 "$work/run.py" "$SMTP_PORT" "$2" "$SIZE" bench@ma.example "$work/mailauth/mail/ma.example/bench/new" "$postfix_conf" "$p/queue"
    else
        python3 "$work/run.py" "$SMTP_PORT" "$2" "$SIZE" bench@dc.example "$d/mail/bench/Maildir/new" "$postfix_conf" "$p/queue"
    fi
}

servers=(mailauth)
[ "$dovecot" = no ] || servers+=(dovecot)
for s in "${servers[@]}"; do run "$s" 20 >/dev/null; done # warm-up: code compiled, processes spawned
declare -A results
for r in $(seq "$RUNS"); do
    order=("${servers[@]}")
    [ $((r % 2)) = 1 ] || order=($(printf '%s\n' "${servers[@]}" | tac))
    for s in "${order[@]}"; do
        rate=$(run "$s" "$COUNT")
        results[$s]="${results[$s]:-} $rate"
        echo "run $r $s: $rate msg/s"
    done
done

median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "Postfix -> LMTP (UNIX socket), $COUNT messages of ~$SIZE bytes per run, $RUNS runs, $(nproc) cores"
printf '| %-8s | %-24s | %-10s |\n' server "runs (msg/s)" median
printf '|----------|--------------------------|------------|\n'
for s in "${servers[@]}"; do
    printf '| %-8s | %-24s | %-10s |\n' "$s" "${results[$s]# }" "$(median "${results[$s]}")"
done
if [ "$dovecot" = yes ]; then
    awk -v a="$(median "${results[mailauth]}")" -v b="$(median "${results[dovecot]}")" 'BEGIN { printf "MailAuth / Dovecot: %.2fx\n", a / b }'
fi
