#!/usr/bin/env bash
# compose-secrets.sh - the secrets docker-compose.yml mounts, written once into
# ./secrets (a directory only its owner may enter; ignored by git). Run it before `docker compose up`;
# it keeps what exists, so run it again after deleting a file to replace it.
#
#   scripts/compose-secrets.sh            # or SECRETS_DIR=/elsewhere
#
# Writes:
#   ca.pem, ca-key.pem          a private CA (P-256, 825 days)
#   server.pem, server-key.pem  the services' certificate: slamanager,
#                               dataretrieval, slapipe, localhost, 127.0.0.1
#   admin.token, read.token     bearer tokens for `slapipe ctl --token-file`
#   auth.yaml                   --auth-file: their names, roles and SHA-256
#   metrics.password            Prometheus' basic auth password for /metrics
#   web.yml                     --web-config-file: TLS and that user (bcrypt)
#   grafana-admin.password      Grafana's admin password
#   mysql-root.password, mysql.password, mysql.dsn (--mysql-dsn-file)
# Needs openssl, sha256sum and, for bcrypt, htpasswd (apache2-utils), docker
# or python3 < 3.13.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${SECRETS_DIR:-secrets}
mkdir -p "$D"
chmod 700 "$D"
umask 077

random() { openssl rand -base64 33 | tr -d '/+=\n'; }
have() { [ -s "$D/$1" ]; }

if ! have ca.pem; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj /CN=slapipe-ca -keyout "$D/ca-key.pem" -out "$D/ca.pem" 2>/dev/null
fi
if ! have server.pem; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=slapipe \
    -keyout "$D/server-key.pem" -out "$D/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:slamanager,DNS:dataretrieval,DNS:slapipe,DNS:localhost,IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature" > "$D/server.ext"
  openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca-key.pem" -CAcreateserial \
    -days 825 -extfile "$D/server.ext" -out "$D/server.pem" 2>/dev/null
  rm -f "$D/server.csr" "$D/server.ext" "$D/ca.srl"
fi

for role in admin read; do have "$role.token" || random > "$D/$role.token"; done
sha() { printf %s "$(cat "$D/$1")" | sha256sum | cut -d' ' -f1; }
cat > "$D/auth.yaml" <<EOF
# slapipe --auth-file: the SHA-256 of each token, never the token itself.
tokens:
  - name: operator
    role: admin
    sha256: $(sha admin.token)
  - name: reader
    role: read
    sha256: $(sha read.token)
EOF

have metrics.password || random > "$D/metrics.password"
if ! have web.yml; then
  pass=$(cat "$D/metrics.password")
  if command -v htpasswd >/dev/null; then
    hash=$(htpasswd -nbBC 10 "" "$pass" | tr -d ':\n')
  elif command -v docker >/dev/null; then
    hash=$(docker run --rm httpd:2.4-alpine htpasswd -nbBC 10 "" "$pass" | tr -d ':\n')
  else
    hash=$(PASS=$pass python3 -c 'import crypt, os; print(crypt.crypt(os.environ["PASS"], crypt.mksalt(crypt.METHOD_BLOWFISH)))' 2>/dev/null || true)
  fi
  case "$hash" in '$2'*) ;; *) echo "compose-secrets: bcrypt needs htpasswd (apt-get install apache2-utils), docker, or python3 < 3.13" >&2; exit 1 ;; esac
  cat > "$D/web.yml" <<EOF
# exporter-toolkit web configuration of every slapipe /metrics (--web-config-file).
tls_server_config:
  cert_file: /run/secrets/server.pem
  key_file: /run/secrets/server-key.pem
basic_auth_users:
  prometheus: '$hash'
EOF
fi

have grafana-admin.password || random > "$D/grafana-admin.password"
have mysql-root.password || random > "$D/mysql-root.password"
have mysql.password || random > "$D/mysql.password"
printf 'slapipe:%s@tcp(mysql:3306)/slapipe?parseTime=true\n' "$(cat "$D/mysql.password")" > "$D/mysql.dsn"

# Compose mounts file secrets with their host modes and the containers run
# as other users (slapipe 65532, mysql 999, prometheus 65534): the files are
# readable, the directory (700) keeps other users of the host out.
chmod 644 "$D"/*
chmod 700 "$D"
echo "secrets in $D/: slapipe ctl --tls-ca-file $D/ca.pem --token-file $D/admin.token status"
