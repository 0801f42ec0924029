#!/usr/bin/env bash
# Makes sure the services the tests talk to answer on loopback: PostgreSQL (5432), Redis
# (6379), RabbitMQ (5672), and that Chromium with its driver is installed. On a machine that
# lacks one, installs it from Debian's packages and starts it; that takes root, so anyone else
# is told in one line what to do. `make test` runs this; a user's first run needs none of it.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_root() {  # what to do, as a command line
  [ "$(id -u)" = 0 ] && return 0
  echo "services: the tests need this and only root can do it: sudo $1 (then run 'make test' again;" \
    "'make test-fast' needs none of it)" >&2
  exit 1
}
apt_updated=0
apt_install() {
  need_root "apt-get install -y $*"
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_for() {  # port, name
  for _ in $(seq 1 90); do answers "$1" && return 0; sleep 1; done
  echo "services: $2 does not answer on 127.0.0.1:$1" >&2; return 1
}

if ! answers 5432; then
  installed_here=0
  command -v pg_ctlcluster >/dev/null 2>&1 || { apt_install postgresql; installed_here=1; }
  cluster=$(ls /etc/postgresql | head -1)
  need_root "pg_ctlcluster --skip-systemctl-redirect $cluster main start"
  if [ "$installed_here" = 1 ]; then
    # The tests log in as postgres over TCP without a password, as on the machines that come
    # with PostgreSQL running: trust loopback connections of the cluster installed here.
    hba="/etc/postgresql/$cluster/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  wait_for 5432 PostgreSQL
  for db in test root; do su postgres -c "createdb $db" 2>/dev/null || true; done
  su postgres -c "createuser -s root" 2>/dev/null || true
fi

if ! answers 6379; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  need_root "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 6379 Redis
fi

if ! answers 5672; then
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  need_root "rabbitmq-server -detached"
  rabbitmq-server -detached
  wait_for 5672 RabbitMQ
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi
echo "services: PostgreSQL, Redis and RabbitMQ answer; $(chromium --version 2>/dev/null | head -1)"
