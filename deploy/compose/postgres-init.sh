#!/usr/bin/env bash
# Runs once, when the dev stack's PostgreSQL starts on an empty volume (docker-entrypoint-initdb.d).
# - data-analytics reads the `toolshed` database as `analytics_reader`: it may only read, and the
#   server refuses a role that can write.
# - vector-search owns the `vectors` database as `vector_search`, where pgvector is installed.
# Passwords come from the stack's secrets (/run/secrets), not from this file.
set -euo pipefail
reader_password="$(cat /run/secrets/analytics-reader-password)"
vector_password="$(cat /run/secrets/vector-search-password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set db="$POSTGRES_DB" --set reader_password="$reader_password" --set vector_password="$vector_password" <<'SQL'
CREATE ROLE analytics_reader LOGIN PASSWORD :'reader_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"db" TO analytics_reader;
GRANT USAGE ON SCHEMA public TO analytics_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO analytics_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO analytics_reader;
CREATE ROLE vector_search LOGIN PASSWORD :'vector_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE vectors OWNER vector_search;
\connect vectors
CREATE EXTENSION IF NOT EXISTS vector;
SQL
