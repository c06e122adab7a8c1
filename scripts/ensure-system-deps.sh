#!/usr/bin/env bash
# Installs the system packages the project needs when they are missing (Debian/Ubuntu): redis-server,
# openssl (certificates for the local TLS servers) and tcpdump (the test that proves no password crosses
# the wire in clear over TLS), and with --browser (the full test run) also chromium for the dashboard's browser tests and Debian's Django
# stack (Django, django-redis, channels, channels_redis, Celery) for the tests of the Django ACL profile.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v tcpdump >/dev/null 2>&1 || [[ -x /usr/bin/tcpdump ]] || need+=(tcpdump)
if [[ "${1:-}" == "--browser" ]]; then
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  # Debian's own python3 with Debian's packages: the versions the Django profile was observed with.
  for pkg in django:python3-django django_redis:python3-django-redis channels:python3-django-channels \
             channels_redis:python3-channels-redis celery:python3-celery; do
    /usr/bin/python3 -c "import ${pkg%%:*}" >/dev/null 2>&1 || need+=("${pkg#*:}")
  done
fi
[[ ${#need[@]} -eq 0 ]] && exit 0
echo "installing: ${need[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install ${need[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
