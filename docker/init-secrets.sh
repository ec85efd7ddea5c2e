#!/bin/sh
# Creates the secret files docker/compose.yml mounts (random values), in docker/secrets/
# or the directory given. Existing files are kept, so running it again changes nothing.
#
#   sh docker/init-secrets.sh
#
# The directory is 0700 (only you); the files are 0644 because each is bind-mounted into a
# container whose process runs as its own non-root user (postgres, mosquitto 1883,
# registrar and agent 10001), and Compose keeps the host file's owner and mode.
set -eu

dir="${1:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

put() { # put NAME VALUE: write the file unless it exists
  if [ ! -s "$dir/$1" ]; then
    printf '%s\n' "$2" > "$dir/$1"
    echo "created $dir/$1"
  fi
  chmod 0644 "$dir/$1"
}

put postgres_password "$(random)"
# the registrar's DATABASE_URL_FILE: the same password, in the URL of the postgres service
put database_url "postgresql://peerfetch:$(cat "$dir/postgres_password")@postgres:5432/peerfetch"
put mqtt_registrar_password "$(random)"
put admin_password "$(random)"
# used only when TURN_URLS and TURN_SECRET_FILE are set (docs/operations.md, "TURN")
put turn_secret "$(random)"
