#!/bin/sh
# The `mosquitto-init` one-shot of docker/compose.yml: creates Mosquitto's dynamic-security
# file with one admin account, the registrar's (MQTT_USERNAME / MQTT_PASSWORD_FILE of the
# registrar service), from the mqtt_registrar_password secret. Runs before the broker on
# every `up`; an existing file is left alone (the registrar's device accounts live in it).
# The registrar gives this account its `pf-registrar` role itself (MQTT_PROVISIONING=dynsec).
set -eu

file="${DYNSEC_FILE:-/mosquitto/data/dynamic-security.json}"
admin="${DYNSEC_ADMIN:-pf-registrar}"
password_file="${DYNSEC_PASSWORD_FILE:-/run/secrets/mqtt_registrar_password}"

if [ -s "$file" ]; then
  echo "mosquitto-init: $file exists, kept"
  exit 0
fi
[ -r "$password_file" ] || { echo "mosquitto-init: cannot read $password_file" >&2; exit 1; }
password="$(cat "$password_file")"
[ -n "$password" ] || { echo "mosquitto-init: $password_file is empty" >&2; exit 1; }

umask 077
# (the password is an argument for the moment this runs: mosquitto_ctrl has no file option)
mosquitto_ctrl dynsec init "$file" "$admin" "$password" > /dev/null
chmod 0600 "$file"
echo "mosquitto-init: created $file with the dynsec admin account \"$admin\""
