# Helpers the bench scripts source (`. bench/common.sh`): waiting for a server, and the lines of
# a private Dovecot instance every comparison uses.

wait_port() { # port pid: until the port answers, or the process is gone
    for _ in $(seq 150); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

wait_file() { # path: until it exists (a UNIX socket being bound)
    for _ in $(seq 150); do
        [ -e "$1" ] && return 0
        sleep 0.2
    done
    return 1
}

# The start of a private Dovecot's configuration in DIR (run/, state/, mail/ made here; the mail
# belongs to nobody): INSTANCE names it; the caller appends its protocols and services.
dovecot_base_conf() { # dir instance
    mkdir -p "$1/run" "$1/state" "$1/mail"
    chown nobody:nogroup "$1/mail"
    cat <<CONF
base_dir = $1/run
state_dir = $1/state
instance_name = $2
log_path = $1/dovecot.log
listen = 127.0.0.1
ssl = no
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
service stats {
  inet_listener http {
    port = 0
  }
}
CONF
}
