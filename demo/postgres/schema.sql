-- The PostgreSQL demo database (scripts/demo-postgres.sh): the tables of the
-- SQLite demo (src/demo/app_database.cc), with timestamptz clocks, and the
-- request log partitioned by month on its clock.
--
--   psql -v rows=20000 -v now="'2026-11-30 10:00:00+00'" -f schema.sql
--
-- rows: the approximate total (shared out as in the SQLite demo); now: the
-- instant the data is generated around. The rows come from generate_series
-- and a seeded random(): the same rows for the same rows and now.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
-- One process: a parallel plan would draw the random numbers in another order.
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.1414) \g /dev/null

CREATE TEMP TABLE demo_params AS
SELECT :now::timestamptz AS now,
       greatest(20, round(:rows * 0.010))::int AS accounts,
       greatest(40, round(:rows * 0.050))::int AS customers,
       greatest(20, round(:rows * 0.060))::int AS inventory_items,
       greatest(20, round(:rows * 0.080))::int AS sales,
       greatest(20, round(:rows * 0.050))::int AS invoices,
       greatest(20, round(:rows * 0.015))::int AS support_tickets,
       greatest(20, round(:rows * 0.040))::int AS support_emails,
       greatest(20, round(:rows * 0.080))::int AS audit_events,
       greatest(20, round(:rows * 0.040))::int AS security_events,
       greatest(20, round(:rows * 0.400))::int AS request_logs,
       greatest(20, round(:rows * 0.020))::int AS sessions,
       greatest(20, round(:rows * 0.005))::int AS oauth_states,
       greatest(20, round(:rows * 0.150))::int AS usage_events;

CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'closed')),
  created_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  name text, email text, phone text,
  created_at timestamptz
);
CREATE TABLE inventory_items (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  sku text, title text, price_cents integer,
  created_at timestamptz
);
CREATE TABLE sales (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  customer_id bigint,
  amount_cents integer,
  sold_at timestamptz
);
CREATE TABLE invoices (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  customer_id bigint,
  total_cents integer,
  issued_at timestamptz
);
CREATE TABLE support_tickets (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  customer_id bigint,
  subject text, status text,
  last_activity_at timestamptz
);
CREATE TABLE support_emails (
  id bigint PRIMARY KEY,
  ticket_id bigint NOT NULL,
  customer_id bigint,
  sender text, body text,
  sent_at timestamptz
);
CREATE TABLE audit_events (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  actor text, action text,
  occurred_at timestamptz
);
CREATE TABLE security_events (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  kind text, ip text,
  occurred_at timestamptz
);
-- Partitioned by month on its clock. A partitioned table's primary key must
-- hold the partition column, hence (id, created_at). Rows older than the first
-- month land in the default partition, which is never
-- dropped: its rows are purged one by one.
CREATE TABLE request_logs (
  id bigint NOT NULL,
  account_id bigint NOT NULL,
  method text, path text, status integer, latency_ms integer, ip text,
  created_at timestamptz,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE request_logs_default PARTITION OF request_logs DEFAULT;
CREATE TABLE sessions (
  id text PRIMARY KEY,
  account_id bigint NOT NULL,
  created_at timestamptz,
  expires_at timestamptz
);
CREATE TABLE oauth_states (
  state text PRIMARY KEY,
  account_id bigint NOT NULL,
  created_at timestamptz,
  expires_at timestamptz
);
CREATE TABLE usage_events (
  id bigint PRIMARY KEY,
  account_id bigint NOT NULL,
  name text,
  occurred_at timestamptz
);

-- Monthly partitions from seven months before now to the month after it.
DO $$
DECLARE
  first date := date_trunc('month', (SELECT now FROM demo_params) AT TIME ZONE 'UTC') - interval '7 months';
  m date;
BEGIN
  FOR i IN 0..8 LOOP
    m := first + make_interval(months => i);
    EXECUTE format('CREATE TABLE %I PARTITION OF request_logs FOR VALUES FROM (%L) TO (%L)',
                   'request_logs_' || to_char(m, 'YYYY_MM'),
                   m::text || ' 00:00:00+00', (m + interval '1 month')::date::text || ' 00:00:00+00');
  END LOOP;
END $$;

-- A random instant in the `span` before now.
CREATE FUNCTION pg_temp.ago(span interval) RETURNS timestamptz
  LANGUAGE sql AS $$ SELECT (SELECT now FROM demo_params) - random() * span $$;
CREATE FUNCTION pg_temp.pick(n int) RETURNS bigint
  LANGUAGE sql AS $$ SELECT 1 + floor(random() * n)::bigint $$;

INSERT INTO accounts
SELECT i, 'Account ' || i, 'owner' || i || '@example.com',
       CASE WHEN i % 4 = 0 THEN 'closed' ELSE 'active' END,
       c, CASE WHEN i % 4 = 0 THEN c + random() * ((SELECT now FROM demo_params) - c) END
FROM (SELECT i, pg_temp.ago('3 years') AS c FROM generate_series(1, (SELECT accounts FROM demo_params)) i) a;

INSERT INTO customers
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), 'Customer ' || i,
       'customer' || i || '@example.com', '+1-555-' || lpad((i % 10000)::text, 4, '0'),
       pg_temp.ago('2 years')
FROM generate_series(1, (SELECT customers FROM demo_params)) i;

INSERT INTO inventory_items
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), 'SKU-' || i, 'Item ' || i,
       (100 + random() * 9900)::int, pg_temp.ago('2 years')
FROM generate_series(1, (SELECT inventory_items FROM demo_params)) i;

-- Sales and invoices span ten years: the oldest are past the 7-year floor.
INSERT INTO sales
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), pg_temp.pick((SELECT customers FROM demo_params)),
       (100 + random() * 50000)::int, CASE WHEN i % 97 = 0 THEN NULL ELSE pg_temp.ago('10 years') END
FROM generate_series(1, (SELECT sales FROM demo_params)) i;

INSERT INTO invoices
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), pg_temp.pick((SELECT customers FROM demo_params)),
       (100 + random() * 50000)::int, pg_temp.ago('10 years')
FROM generate_series(1, (SELECT invoices FROM demo_params)) i;

INSERT INTO support_tickets
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), pg_temp.pick((SELECT customers FROM demo_params)),
       'Ticket ' || i, (ARRAY['open', 'closed'])[1 + i % 2], pg_temp.ago('4 years')
FROM generate_series(1, (SELECT support_tickets FROM demo_params)) i;

INSERT INTO support_emails
SELECT i, t, (SELECT customer_id FROM support_tickets WHERE id = t),
       'customer@example.com', 'Message ' || i, pg_temp.ago('4 years')
FROM (SELECT i, pg_temp.pick((SELECT support_tickets FROM demo_params)) AS t
      FROM generate_series(1, (SELECT support_emails FROM demo_params)) i) e;

INSERT INTO audit_events
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)), 'admin' || (i % 7),
       (ARRAY['login', 'role.grant', 'export', 'settings.update'])[1 + i % 4], pg_temp.ago('2 years')
FROM generate_series(1, (SELECT audit_events FROM demo_params)) i;

INSERT INTO security_events
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)),
       (ARRAY['login', 'login.failed', 'mfa', 'rate_limited'])[1 + i % 4],
       '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 97), pg_temp.ago('2 years')
FROM generate_series(1, (SELECT security_events FROM demo_params)) i;

-- Seven months of requests; a few older ones land in the default partition.
INSERT INTO request_logs
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)),
       (ARRAY['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'])[1 + i % 6],
       '/api/v1/items/' || (i % 1000), (ARRAY[200, 200, 200, 201, 304, 404, 500])[1 + i % 7],
       (1 + random() * 400)::int, '192.0.2.' || (i % 250),
       CASE WHEN i % 503 = 0 THEN pg_temp.ago('2 years') - interval '8 months'
            ELSE pg_temp.ago('7 months') END
FROM generate_series(1, (SELECT request_logs FROM demo_params)) i;

INSERT INTO sessions
SELECT md5('session' || i), pg_temp.pick((SELECT accounts FROM demo_params)), c, c + interval '14 days'
FROM (SELECT i, pg_temp.ago('90 days') AS c FROM generate_series(1, (SELECT sessions FROM demo_params)) i) s;

INSERT INTO oauth_states
SELECT md5('oauth' || i), pg_temp.pick((SELECT accounts FROM demo_params)), c, c + interval '10 minutes'
FROM (SELECT i, pg_temp.ago('3 days') AS c FROM generate_series(1, (SELECT oauth_states FROM demo_params)) i) s;

INSERT INTO usage_events
SELECT i, pg_temp.pick((SELECT accounts FROM demo_params)),
       (ARRAY['page.view', 'item.create', 'export', 'error'])[1 + i % 4],
       CASE WHEN i % 1013 = 0 THEN NULL ELSE pg_temp.ago('2 years') END
FROM generate_series(1, (SELECT usage_events FROM demo_params)) i;

-- An index whose leading column is each clock (check asks for one), and
-- the join and subject columns.
CREATE INDEX ON accounts (closed_at);
CREATE INDEX ON customers (account_id);
CREATE INDEX ON inventory_items (account_id);
CREATE INDEX ON sales (sold_at);
CREATE INDEX ON sales (account_id);
CREATE INDEX ON invoices (issued_at);
CREATE INDEX ON invoices (account_id);
CREATE INDEX ON support_tickets (last_activity_at);
CREATE INDEX ON support_emails (ticket_id);
CREATE INDEX ON audit_events (occurred_at);
CREATE INDEX ON security_events (occurred_at);
CREATE INDEX ON request_logs (created_at);
CREATE INDEX ON sessions (expires_at);
CREATE INDEX ON oauth_states (expires_at);
CREATE INDEX ON usage_events (occurred_at);
ANALYZE;
