#!/usr/bin/env bash
# MailAuth and Dovecot side by side on loopback: the same users, the same stored Argon2id hashes
# (one Dovecot passwd-file, imported into MailAuth as it is), the same certificate, the same
# login benchmark. Prints logins/s, p50/p99 and the ratios, then the same for the Dovecot auth
# protocol that Postfix speaks (MailAuth's SaslService against Dovecot's own auth listener, on
# SASL_USERS further users), then the memory of 10,000 idle authenticated IMAP connections on MailAuth.
# A shared machine drifts by tens of percent within minutes, so everything runs ROUNDS times, the
# two servers taking turns to go first, each round on users no earlier round touched; the summary
# gives the median of the rounds. Each IMAP and SMTP run starts with a few seconds of unmeasured
# logins of other users (--warm-up), so that neither a fresh server nor the client is still compiling.
#
#   bench/compare-dovecot.sh    (USERS=1000 SASL_USERS=500 ROUNDS=3 CLIENTS=16 RUN_SECONDS=10 IDLE=10000 to change)
#
# Needs root for apt-get (dovecot-imapd, dovecot-submissiond) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-1000}
SASL_USERS=${SASL_USERS:-500}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-16}
RUN_SECONDS=${RUN_SECONDS:-10}
WARM_UP_SECONDS=3
WARM_UP_USERS=100
IDLE=${IDLE:-10000}
MEMORY_KIB=19456
ITERATIONS=2
BASE_PORT=${BASE_PORT:-24000}

# dovecot-core alone (e.g. for building imaptest) lacks the imap and submission services.
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/submission ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-submissiond >/dev/null
fi
# 10,000 connections need 10,000 descriptors on each side.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/mailauth-compare.XXXXXX)
chmod 755 "$work"  # Dovecot's auth process runs as the dovecot user.
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true; }
trap cleanup EXIT

dotnet build -c Release -v q --nologo src/MailAuth.Server >/dev/null
dotnet build -c Release -v q --nologo bench/MailAuth.Bench >/dev/null
mailauth() { dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll "$@"; }
bench() { dotnet bench/MailAuth.Bench/bin/Release/net10.0/MailAuth.Bench.dll "$@"; }

per_round=$((USERS + SASL_USERS))
echo "== $USERS users per round, $ROUNDS rounds, argon2id m=$MEMORY_KIB KiB t=$ITERATIONS p=1, $CLIENTS clients, ${RUN_SECONDS}s per run, $(nproc) cores"
bench users --count "$((ROUNDS * per_round + WARM_UP_USERS))" --domain bench.example --out "$work/users" --memory-kib $MEMORY_KIB --iterations $ITERATIONS
tail -n "$WARM_UP_USERS" "$work/users/credentials" >"$work/users/warm-up"
chgrp dovecot "$work/users/passwd" && chmod 640 "$work/users/passwd"
chmod 600 "$work/users/credentials"
half=$((USERS / 2))

# MailAuth: import the passwd-file as it is.
export MailAuth__DataDirectory="$work/mailauth" MailAuth__BindAddress=127.0.0.1
export MailAuth__Hashing__MemoryKiB=$MEMORY_KIB MailAuth__Hashing__Iterations=$ITERATIONS
export MailAuth__Imap__Port=$((BASE_PORT + 143)) MailAuth__Imap__TlsPort=$((BASE_PORT + 993))
export MailAuth__Smtp__SubmissionPort=$((BASE_PORT + 587)) MailAuth__Smtp__SubmissionsPort=$((BASE_PORT + 465))
export MailAuth__SaslService__TcpPort=$((BASE_PORT + 12))
export MailAuth__Imap__MaxConnectionsPerAddress=$((IDLE + 100)) MailAuth__Imap__MaxConnections=$((IDLE + 100))
export MailAuth__Smtp__MaxConnectionsPerAddress=1000
mailauth mailbox import "$work/users/passwd" --create-domains >/dev/null
# Started directly (not through the function) so that $! is the server itself.
dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll serve >"$work/mailauth.log" 2>&1 &
mailauth_pid=$!
pids+=($mailauth_pid)
for _ in $(seq 150); do
  grep -q "listening submissions" "$work/mailauth.log" && break
  kill -0 $mailauth_pid 2>/dev/null || { cat "$work/mailauth.log"; exit 1; }
  sleep 0.2
done
cert="$work/mailauth/tls/certificate.pem"
key="$work/mailauth/tls/key.pem"

# Dovecot: the same passwd-file and certificate; its auth cache on, as an operator would run it.
mkdir -p "$work/dovecot/run" "$work/dovecot/state" "$work/dovecot/home"
chown -R dovecot:dovecot "$work/dovecot/home"
DOVECOT_PORT=$((BASE_PORT + 1000))
cat >"$work/dovecot/dovecot.conf" <<CONF
protocols = imap submission
listen = 127.0.0.1
base_dir = $work/dovecot/run
state_dir = $work/dovecot/state
log_path = $work/dovecot/dovecot.log
ssl = required
ssl_cert = <$cert
ssl_key = <$key
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=ARGON2ID $work/users/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$work/dovecot/home/%d/%n
}
first_valid_uid = 1
mail_location = maildir:~/Maildir
auth_cache_size = 10M
auth_cache_ttl = 5 mins
service imap-login {
  inet_listener imap {
    port = $((DOVECOT_PORT + 143))
  }
  inet_listener imaps {
    port = $((DOVECOT_PORT + 993))
    ssl = yes
  }
}
service submission-login {
  inet_listener submission {
    port = $((DOVECOT_PORT + 587))
  }
  inet_listener submissions {
    port = $((DOVECOT_PORT + 465))
    ssl = yes
  }
}
# Postfix's smtpd_sasl_path = inet:127.0.0.1:PORT, as Dovecot's documentation sets it up.
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $((DOVECOT_PORT + 12))
  }
}
submission_relay_host = 127.0.0.1
submission_relay_port = $((DOVECOT_PORT + 25))
hostname = bench.example
CONF
# Dovecot's submission service connects to its relay after login: give it one that answers.
python3 - "$((DOVECOT_PORT + 25))" <<'PY' &
import socket, sys, threading
def serve(conn):
    with conn:
        conn.sendall(b"220 sink ESMTP\r\n")
        buffer = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                verb = line.strip().upper()
                if verb.startswith(b"EHLO"):
                    conn.sendall(b"250-sink\r\n250 PIPELINING\r\n")
                elif verb.startswith(b"QUIT"):
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")
listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
PY
pids+=($!)
dovecot -c "$work/dovecot/dovecot.conf"
sleep 1

run() { # name protocol port extra...
  local name=$1 protocol=$2 port=$3; shift 3
  local warm_up=(--warm-up "$WARM_UP_SECONDS" --warm-up-users "$work/users/warm-up")
  # Not for the auth protocol: after the warm-up's connections close, Dovecot's auth listener
  # stalls the next run's new connections for about 4.5 s, which would misstate it.
  [ "$protocol" != sasl ] || warm_up=()
  bench login --protocol "$protocol" --port "$port" --users "$work/users/credentials" --clients "$CLIENTS" \
    --seconds "$RUN_SECONDS" --ca "$cert" --label "$name" "${warm_up[@]}" "$@" | tee -a "$work/results"
}
# rates NAME / p99s NAME: one value per round from the result lines of NAME.
rates() { grep -F "$1 #" "$work/results" | awk '{for (i = 1; i < NF; i++) if ($i == "logins" || $i == "auths") print $(i + 1)}' | tr -d '/s'; }
p99s() { grep -F "$1 #" "$work/results" | awk '{for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1)}'; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

scenarios=("imaps cold" "imaps repeat-10" "smtps cold" "smtps repeat-10" "sasl cold" "sasl repeat-10")
for round in $(seq "$ROUNDS"); do
  offset=$(((round - 1) * per_round))
  if [ $((round % 2)) = 1 ]; then order="mailauth dovecot"; else order="dovecot mailauth"; fi
  echo "== round $round of $ROUNDS ($order)"
  for server in $order; do
    if [ $server = mailauth ]; then base=$BASE_PORT; else base=$DOVECOT_PORT; fi
    # Cold: each user once, IMAP on one half of them and SMTP on the other, so no cache can help.
    run "$server imaps cold #$round" imap $((base + 993)) --skip "$offset" --distinct "$half" --no-repeat
    run "$server imaps repeat-10 #$round" imap $((base + 993)) --skip "$offset" --distinct 10
    run "$server smtps cold #$round" smtp $((base + 465)) --skip $((offset + half)) --distinct $((USERS - half)) --no-repeat
    run "$server smtps repeat-10 #$round" smtp $((base + 465)) --skip $((offset + half)) --distinct 10
    # The auth protocol alone (no TLS, no mail protocol), on users no other run touched.
    run "$server sasl cold #$round" sasl $((base + 12)) --skip $((offset + USERS)) --distinct "$SASL_USERS" --no-repeat
    run "$server sasl repeat-10 #$round" sasl $((base + 12)) --skip $((offset + USERS)) --distinct 10
  done
done

echo
echo "== medians of $ROUNDS rounds (logins per second; ratio MailAuth / Dovecot)"
for scenario in "${scenarios[@]}"; do
  each=$(paste -d' ' <(rates "mailauth $scenario") <(rates "dovecot $scenario") | awk '{printf "%s%.2fx", (NR > 1 ? " " : ""), $1 / $2}')
  awk -v name="$scenario" -v a="$(rates "mailauth $scenario" | median)" -v b="$(rates "dovecot $scenario" | median)" \
    -v p="$(p99s "mailauth $scenario" | median)" -v each="$each" \
    'BEGIN { printf "%-16s MailAuth %8.1f/s  Dovecot %6.1f/s  %6.2fx   (rounds %s; MailAuth p99 %s ms)\n", name, a, b, a / b, each, p }'
done

echo
echo "== memory: $IDLE idle authenticated IMAP connections on MailAuth"
bench idle --port $((BASE_PORT + 993)) --users "$work/users/credentials" --server-pid "$mailauth_pid" --connections "$IDLE" --ca "$cert"
