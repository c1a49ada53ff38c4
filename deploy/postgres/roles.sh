#!/bin/sh
# The database's two roles (docs/security.md): run once by the postgres image when it initialises an empty
# data directory (/docker-entrypoint-initdb.d), as its superuser; on a managed PostgreSQL, run the same
# statements as its administrator.
#   FENGQIAO_DB_OWNER   (default fengqiao_owner) owns the database and its schema: `fengqiao db upgrade` runs as it.
#   FENGQIAO_DB_RUNTIME (default fengqiao_app) owns nothing: the worker and the API connect as it, and
#                       `fengqiao db upgrade --grant-runtime` gives it what they need and no more.
# Neither is superuser, so neither can SET session_replication_role; only the owner can ALTER or TRUNCATE.
set -eu
: "${FENGQIAO_DB_OWNER_PASSWORD:?set FENGQIAO_DB_OWNER_PASSWORD}"
: "${FENGQIAO_DB_RUNTIME_PASSWORD:?set FENGQIAO_DB_RUNTIME_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:?set POSTGRES_DB}" \
  -v db="$POSTGRES_DB" -v owner="${FENGQIAO_DB_OWNER:-fengqiao_owner}" -v runtime="${FENGQIAO_DB_RUNTIME:-fengqiao_app}" \
  -v owner_password="$FENGQIAO_DB_OWNER_PASSWORD" -v runtime_password="$FENGQIAO_DB_RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'owner_password';
CREATE ROLE :"runtime" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT PASSWORD :'runtime_password';
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"runtime";
SQL
