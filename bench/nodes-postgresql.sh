#!/usr/bin/env bash
# Several nodes on one PostgreSQL (issue 18), on loopback with a private PostgreSQL 15 (initdb and
# pg_ctl into a temporary directory as the postgres user, its own port and socket directory):
#  1. logins, PostgreSQL store vs SQLite store: cold (each user's first login after the server
#     started: Argon2) and repeat (the same again: the verified-login cache), medians and ratio;
#  2. the database round trips per login kind, counted on the wire by a relay in front of
#     PostgreSQL (a Sync or Query the client then waits on), medians over the users;
#  3. the cross-node invalidation delay: a session open on node B, `mailbox passwd` run with node
#     A's configuration, time from the change being written (the change log's time, before its
#     commit and NOTIFY) to the client reading node B's BYE (median, p99).
# Plain IMAP LOGIN, one at a time, each on a new connection; Argon2id m=19456 KiB t=2.
#
#   bench/nodes-postgresql.sh     (USERS=40 CHANGES=50 BASE_PORT=23500; MAILAUTH_TREE=other checkout, built)
#
# Needs root (runuser) and Debian's postgresql; installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

USERS=${USERS:-40}
CHANGES=${CHANGES:-50}
BASE_PORT=${BASE_PORT:-23500}
TREE=${MAILAUTH_TREE:-$PWD}
PG=/usr/lib/postgresql/15/bin

work=$(mktemp -d /tmp/mailauth-nodes.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  [ ! -d "$work/pg/data" ] || runuser -u postgres -- "$PG/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM

(cd "$TREE" && dotnet build -c Release -v q --nologo src/MailAuth.Server >/dev/null)
dotnet build -c Release -v q --nologo bench/MailAuth.Bench >/dev/null
mailauth() { dotnet "$TREE/src/MailAuth.Server/bin/Release/net10.0/mailauth.dll" "$@"; }
bench() { dotnet bench/MailAuth.Bench/bin/Release/net10.0/MailAuth.Bench.dll "$@"; }
measure() { python3 bench/nodes-postgresql.py "$@"; }

pg_port=$((BASE_PORT + 1))
relay_port=$((BASE_PORT + 2))
mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- mkdir "$work/pg/sockets"
runuser -u postgres -- "$PG/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$PG/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w \
  -o "-p $pg_port -k $work/pg/sockets -c listen_addresses=127.0.0.1" start >/dev/null
psql -h "$work/pg/sockets" -p "$pg_port" -U postgres -qc "CREATE DATABASE mailauth" postgres
store="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=mailauth;SSL Mode=Disable"

export MailAuth__BindAddress=127.0.0.1 MailAuth__Hashing__MemoryKiB=19456 MailAuth__Hashing__Iterations=2
export MailAuth__Imap__TlsPort=0 MailAuth__Smtp__SubmissionPort=0 MailAuth__Smtp__SubmissionsPort=0
export MailAuth__Imap__MaxConnectionsPerAddress=1000
# Every login comes from 127.0.0.1: the wrong passwords counted below must not reach the network limit.
export MailAuth__Authentication__Throttle__NetworkFailures=100000 MailAuth__Authentication__Throttle__AddressFailures=100000
node_env() { # name imap-port [connection string]: this node's settings, exported
  export MailAuth__DataDirectory="$work/$1" MailAuth__Imap__Port=$2
  if [ -n "${3:-}" ]; then
    printf '%s\n' "$3" >"$work/$1.conn" && chmod 600 "$work/$1.conn"
    export MailAuth__Store__Provider=postgresql MailAuth__Store__ConnectionStringFile="$work/$1.conn"
  else
    unset MailAuth__Store__Provider MailAuth__Store__ConnectionStringFile
  fi
}
start() { # name imap-port [connection string]
  node_env "$@"
  dotnet "$TREE/src/MailAuth.Server/bin/Release/net10.0/mailauth.dll" serve >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_port "$2" $! || { cat "$work/$1.log"; exit 1; }
}
stop_last() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

echo "== $(date -u +%F) $(git -C "$TREE" rev-parse --short HEAD 2>/dev/null || basename "$TREE"), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $USERS users, $CHANGES changes"
bench users --count $((USERS * 3 + CHANGES)) --domain bench.example --out "$work/users" --memory-kib 19456 --iterations 2 >/dev/null
sed -n "1,${USERS}p" "$work/users/credentials" >"$work/timed"
sed -n "$((USERS + 1)),$((USERS * 2))p" "$work/users/credentials" >"$work/timed-2"
sed -n "$((USERS * 2 + 1)),$((USERS * 3))p" "$work/users/credentials" >"$work/counted"
tail -n "$CHANGES" "$work/users/credentials" >"$work/changed"
node_env sqlite 0 && mailauth mailbox import "$work/users/passwd" --create-domains >/dev/null
node_env a 0 "$store" && mailauth mailbox import "$work/users/passwd" --create-domains >/dev/null

# 1. Timings, the two stores taking turns (each on users its server has not seen).
for round in 1 2; do
  users="$work/timed"; [ $round = 1 ] || users="$work/timed-2"
  for kind in sqlite postgresql; do
    if [ $kind = sqlite ]; then start sqlite $((BASE_PORT + 10)); else start a $((BASE_PORT + 10)) "$store"; fi
    echo "$kind $(measure timings $((BASE_PORT + 10)) "$users")" >>"$work/timings"
    stop_last
  done
done
# 2. Round trips: a node whose store connection goes through the relay.
measure round-trips $((BASE_PORT + 20)) "$work/counted" "$relay_port" "$pg_port" "$work/relay-up" "$work/node-up" >"$work/round-trips" &
relay=$!
wait_file "$work/relay-up"
start c $((BASE_PORT + 20)) "Host=127.0.0.1;Port=$relay_port;Username=postgres;Database=mailauth;SSL Mode=Disable"
touch "$work/node-up"
wait $relay
stop_last
# 3. Invalidation: nodes A and B, the CLI on A's configuration.
start a $((BASE_PORT + 30)) "$store"
start b $((BASE_PORT + 40)) "$store"
node_env a 0 "$store"
invalidation=$(measure invalidation $((BASE_PORT + 40)) "$work/changed" "dotnet $TREE/src/MailAuth.Server/bin/Release/net10.0/mailauth.dll" \
  "psql -h $work/pg/sockets -p $pg_port -U postgres -At mailauth")

col() { awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$work/timings" | sort -g | awk '{v[NR] = $1} END {print (v[1] + v[NR]) / 2}'; }
awk -v sc="$(col sqlite 2)" -v sr="$(col sqlite 3)" -v pc="$(col postgresql 2)" -v pr="$(col postgresql 3)" 'BEGIN {
  printf "\n| login (median of 2 runs of per-login medians, ms) | SQLite | PostgreSQL | PostgreSQL / SQLite |\n|---|---:|---:|---:|\n"
  printf "| cold (Argon2) | %.2f | %.2f | %.2fx |\n| repeat (cached) | %.2f | %.2f | %.2fx |\n", sc, pc, pc / sc, sr, pr, pr / sr
}'
printf "\n| login kind (PostgreSQL, shared throttle) | round trips |\n|---|---:|\n"
awk -F'\t' '{printf "| %s | %s |\n", $1, $2}' "$work/round-trips"
read -r med p99 min max <<<"$invalidation"
printf "\n| node B's session ended after node A's CLI wrote a new password (%s changes) | ms |\n|---|---:|\n" "$CHANGES"
printf "| median | %s |\n| p99 | %s |\n| min / max | %s / %s |\n" "$med" "$p99" "$min" "$max"
