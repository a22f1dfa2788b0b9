#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh Debian machine, then runs
# every test project. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -e /usr/lib/x86_64-linux-gnu/libsodium.so.23 ] || [ -n "$(ldconfig -p 2>/dev/null | grep libsodium.so.23)" ] || need+=(libsodium23)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v fail2ban-regex >/dev/null || need+=(fail2ban)
[ -x /usr/sbin/postfix ] || need+=(postfix)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_mail_module.so ] || need+=(libnginx-mod-mail)
command -v promtool >/dev/null || need+=(prometheus)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v pebble >/dev/null || need+=(pebble)
command -v chromedriver >/dev/null && command -v chromium >/dev/null || need+=(chromium chromium-driver)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  # Postfix's installer asks for a mail setup; the tests run their own private instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # Nor may nginx's (or prometheus's) installer start a system service: the tests start their own.
  blocker=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    blocker=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$blocker" && chmod +x "$blocker"
    trap 'rm -f "$blocker"' EXIT
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

dotnet build MailAuth.sln -c Release -v q -nologo
# The two test assemblies run side by side: Core's (Argon2, PostgreSQL) and Server's (real servers,
# mostly waiting on sockets) share the cores well, and the suite stays under 5 minutes.
status=0
pids=()
given=("$@")
for project in tests/MailAuth.Core.Tests tests/MailAuth.Server.Tests; do
  # A results directory given (CI's trx files) gets one subdirectory per assembly, so that two
  # result files named by the same second cannot overwrite each other.
  args=()
  for ((i = 0; i < ${#given[@]}; i++)); do
    args+=("${given[i]}")
    if [ "${given[i]}" = --results-directory ] && [ $((i + 1)) -lt ${#given[@]} ]; then
      i=$((i + 1))
      args+=("${given[i]}/$(basename "$project")")
    fi
  done
  dotnet test "$project" -c Release --no-build "${args[@]}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
