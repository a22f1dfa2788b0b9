#!/usr/bin/env bash
# Password spraying from the same IP as legitimate users, against the real server on loopback.
# Run 1: the legitimate workload alone. Run 2: the same, while attackers on the same address
# spray wrong passwords at other accounts as fast as the server answers. Prints the legitimate
# logins' rate and p50/p99 in both runs, and how many attacker guesses were really verified
# (Argon2 ran) per minute, read from the server's own log lines.
#
#   bench/attack.sh      (RUN_SECONDS=30 LEGIT_CLIENTS=4 ATTACK_CLIENTS=16 to change)
#
# The verified-login cache is off here, so that every legitimate login needs Argon2 and
# competes with the attackers for the hashing pool; with it on (the default) they do not.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_SECONDS=${RUN_SECONDS:-30}
LEGIT_CLIENTS=${LEGIT_CLIENTS:-4}
ATTACK_CLIENTS=${ATTACK_CLIENTS:-16}
PORT=${PORT:-26993}

work=$(mktemp -d /tmp/mailauth-attack.XXXXXX)
server_pid=""
trap '[ -n "$server_pid" ] && kill $server_pid 2>/dev/null; true' EXIT

dotnet build -c Release -v q --nologo src/MailAuth.Server >/dev/null
dotnet build -c Release -v q --nologo bench/MailAuth.Bench >/dev/null
bench() { dotnet bench/MailAuth.Bench/bin/Release/net10.0/MailAuth.Bench.dll "$@"; }

export MailAuth__DataDirectory="$work/data" MailAuth__BindAddress=127.0.0.1
export MailAuth__Hashing__MemoryKiB=19456 MailAuth__Hashing__Iterations=2
export MailAuth__Imap__Port=0 MailAuth__Imap__TlsPort=$PORT MailAuth__Smtp__SubmissionPort=0 MailAuth__Smtp__SubmissionsPort=0
export MailAuth__Imap__MaxConnectionsPerAddress=1000
export MailAuth__Authentication__VerifiedLoginCacheSeconds=0

bench users --count 520 --domain bench.example --out "$work/users" --memory-kib 19456 --iterations 2 >/dev/null
head -n 20 "$work/users/credentials" >"$work/legit"     # 20 people who use their mail from this address
tail -n 500 "$work/users/credentials" >"$work/victims"  # 500 accounts the attackers spray
dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll mailbox import "$work/users/passwd" --create-domains >/dev/null
dotnet src/MailAuth.Server/bin/Release/net10.0/mailauth.dll serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do grep -q "listening imaps" "$work/server.log" && break; kill -0 $server_pid || exit 1; sleep 0.2; done
cert="$work/data/tls/certificate.pem"

legit() { bench login --protocol imap --port "$PORT" --users "$work/legit" --clients "$LEGIT_CLIENTS" --seconds "$RUN_SECONDS" --ca "$cert" --label "$1"; }
count() { grep -c "reason=$1 .*address=user00[0-9]*@bench.example" "$work/server.log" | tail -1; }

echo "== $(nproc) cores, argon2id m=19456 KiB t=2, cache off; legit: 20 users x$LEGIT_CLIENTS clients; attack: $ATTACK_CLIENTS clients spraying 500 other accounts"
legit "legit alone" | tee "$work/alone"
wrong_before=$(grep -c "reason=wrong-password" "$work/server.log" || true)
throttled_before=$(grep -c "reason=throttled" "$work/server.log" || true)
bench login --protocol imap --port "$PORT" --users "$work/victims" --clients "$ATTACK_CLIENTS" --seconds "$RUN_SECONDS" \
  --wrong-password --ca "$cert" --label "attackers (wrong passwords)" >"$work/attack" &
attack_pid=$!
legit "legit under attack" | tee "$work/under"
wait $attack_pid || true
cat "$work/attack"
verified=$(( $(grep -c "reason=wrong-password" "$work/server.log" || true) - wrong_before ))
throttled=$(( $(grep -c "reason=throttled" "$work/server.log" || true) - throttled_before ))

field() { awk -v key="$2" '{for (i = 1; i <= NF; i++) if ($i == key) print $(i + 1)}' "$1" | tr -d '/s'; }
rate() { awk '{for (i = 1; i <= NF; i++) if ($i == "logins") print $(i + 1)}' "$1" | tr -d '/s'; }
awk -v ra="$(rate "$work/alone")" -v ru="$(rate "$work/under")" -v pa="$(field "$work/alone" p50)" -v pu="$(field "$work/under" p50)" \
    -v v="$verified" -v t="$throttled" -v s="$RUN_SECONDS" 'BEGIN {
  printf "\nlegit rate under attack   %.0f%% of alone (target >= 80%%)\n", 100 * ru / ra
  printf "legit p50 under attack    %.2fx alone (target <= 2x)\n", pu / pa
  printf "attacker guesses          %d verified (%.1f per minute), %d refused unverified by the throttle\n", v, v * 60 / s, t
}'
