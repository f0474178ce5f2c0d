#!/usr/bin/env bash
# One role and one database per service (DESIGN §2: each service owns its data).
#
# The postgres image runs this once, when its data volume is empty, from
# /docker-entrypoint-initdb.d/ as the superuser ($POSTGRES_USER). Each service's password
# comes from POSTGRES_<SERVICE>_PASSWORD. A service may connect to its own database only;
# PUBLIC loses CONNECT (and TEMPORARY) on each of them; the owner keeps them all.
#
# To add the roles to an existing volume, run it by hand:
#   docker compose exec postgres /docker-entrypoint-initdb.d/10-bansos.sh
set -Eeo pipefail

services=(registry distribution training community audit)

for service in "${services[@]}"; do
    var="POSTGRES_${service^^}_PASSWORD"
    password="${!var:-}"
    if [[ -z "$password" ]]; then
        echo "init.sh: $var is not set" >&2
        exit 1
    fi
    # psql variables (:"name" / :'name') quote identifiers and literals, whatever the password holds.
    psql -v ON_ERROR_STOP=1 --no-psqlrc \
        --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
        --set name="$service" --set password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "init.sh: role and database \"$service\" ready"
done
