-- compose.yaml's Postgres, first start only (docker-entrypoint-initdb.d): the same layout as
-- the cluster's CloudNativePG bootstrap (deploy/k8s/base/postgres.yaml), one role per service
-- owning one schema. The passwords are local-only values, repeated in compose.yaml's URLs.
CREATE ROLE gateway LOGIN PASSWORD 'gateway-local';
CREATE ROLE catalog LOGIN PASSWORD 'catalog-local';
CREATE ROLE sharing LOGIN PASSWORD 'sharing-local';
CREATE ROLE analytics LOGIN PASSWORD 'analytics-local';

REVOKE ALL ON DATABASE encore FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- CREATE: the migrations run `CREATE SCHEMA IF NOT EXISTS`, which checks it (postgres.yaml).
GRANT CONNECT, CREATE ON DATABASE encore TO gateway, catalog, sharing, analytics;

CREATE SCHEMA gateway AUTHORIZATION gateway;
CREATE SCHEMA catalog AUTHORIZATION catalog;
CREATE SCHEMA sharing AUTHORIZATION sharing;
CREATE SCHEMA analytics AUTHORIZATION analytics;
