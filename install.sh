#!/usr/bin/env bash
# Installs MailAuth as a systemd service (README "Operations"), or upgrades it: run it again.
#
#   sudo ./install.sh                       publish, install, create the mailauth user, start on upgrade
#   DESTDIR=/tmp/root ./install.sh --no-system   lay the files out under /tmp/root only (packaging, tests)
#
# Options: --binary FILE installs that published single-file mailauth instead of publishing one;
# --no-system skips useradd, chown and systemctl.
#
# Layout: /usr/local/bin/mailauth (one self-contained file), /etc/mailauth/appsettings.json (this
# host's settings: written once, never replaced), /var/lib/mailauth (the data, 0700, the mailauth
# user's; never touched when it exists), /var/cache/mailauth (the unpacked SQLite library),
# /usr/local/lib/systemd/system/mailauth.service, and the shipped examples in
# /usr/local/share/mailauth (every setting with its default, fail2ban, Grafana, Prometheus alerts).
set -euo pipefail
cd "$(dirname "$0")"

binary=""
system=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --no-system) system=no; shift ;;
    *) echo "install.sh: unknown option $1 (--binary FILE, --no-system)" >&2; exit 2 ;;
  esac
done
root="${DESTDIR:-}"

if [ -z "$binary" ]; then
  case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "install.sh: no .NET runtime identifier for $(uname -m)" >&2; exit 1 ;;
  esac
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  dotnet publish src/MailAuth.Server -p:PublishProfile=SingleFile -r "$rid" -o "$out" -nologo -v q >&2
  binary="$out/mailauth"
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

# The binary: a new file renamed over the old one, so a running server keeps its own until restarted.
install -d -m 0755 "$root/usr/local/bin"
install -m 0755 "$binary" "$root/usr/local/bin/.mailauth.new"
mv -f "$root/usr/local/bin/.mailauth.new" "$root/usr/local/bin/mailauth"

install -d -m 0755 "$root/usr/local/share/mailauth"
install -m 0644 config/appsettings.json config/fail2ban-filter.conf config/fail2ban-jail.conf \
  config/grafana-dashboard.json config/prometheus-alerts.yml "$root/usr/local/share/mailauth/"

install -d -m 0755 "$root/usr/local/lib/systemd/system"
install -m 0644 config/mailauth.service "$root/usr/local/lib/systemd/system/mailauth.service"

# This host's settings: only the keys that differ from the defaults (the defaults are in the program).
install -d -m 0750 "$root/etc/mailauth"
if [ ! -e "$root/etc/mailauth/appsettings.json" ]; then
  cat > "$root/etc/mailauth/appsettings.json.new" <<'JSON'
{
  // This host's MailAuth settings: each key here overrides the program's default. Every setting,
  // with its default and meaning: /usr/local/share/mailauth/appsettings.json (README "Configuration").
  // install.sh writes this file once and never replaces it.
  "MailAuth": {
    // Also set by the systemd unit; here so that the CLI (run as mailauth:
    // `runuser -u mailauth -- mailauth mailbox list`) finds the same data.
    "DataDirectory": "/var/lib/mailauth"
  }
}
JSON
  chmod 0640 "$root/etc/mailauth/appsettings.json.new"
  mv "$root/etc/mailauth/appsettings.json.new" "$root/etc/mailauth/appsettings.json"
fi
install -d -m 0700 "$root/var/lib/mailauth"
# Where the program unpacks its bundled SQLite: the unit's CacheDirectory, and the mailauth user's
# home, so that the CLI run as that user (runuser sets HOME) unpacks into ~/.net here too and
# not into the data directory.
install -d -m 0700 "$root/var/cache/mailauth"

if [ "$system" = yes ]; then
  if ! getent passwd mailauth >/dev/null; then
    useradd --system --user-group --home-dir /var/cache/mailauth --no-create-home --shell /usr/sbin/nologin mailauth
  fi
  chown root:mailauth "$root/etc/mailauth" "$root/etc/mailauth/appsettings.json"
  chown mailauth:mailauth "$root/var/lib/mailauth" "$root/var/cache/mailauth"
  if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    # An upgrade restarts a running server; a first install leaves starting it to the admin.
    systemctl try-restart mailauth.service
    systemctl is-enabled --quiet mailauth.service || echo "installed: systemctl enable --now mailauth" >&2
  fi
fi
"$root/usr/local/bin/mailauth" --version >/dev/null
echo "installed mailauth $("$root/usr/local/bin/mailauth" --version) in ${root:-/}" >&2
