import { ToolshedError } from "@toolshed/server";
import type pg from "pg";

/** Predefined roles whose members can write, read server files, run programs or signal backends. */
const POWERFUL_ROLES = [
  "pg_write_server_files",
  "pg_read_server_files",
  "pg_execute_server_program",
  "pg_signal_backend",
  "pg_write_all_data",
  "pg_checkpoint",
  "pg_create_subscription",
  "pg_maintain",
];

/** One round trip: the role's attributes and every write-like privilege it holds here. */
const ROLE_SQL = `
SELECT r.rolname::text AS role, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
  current_database()::text AS db, has_database_privilege(current_database(), 'CREATE') AS db_create,
  ARRAY(SELECT g.rolname::text FROM pg_roles g
        WHERE g.rolname = ANY($2::text[]) AND pg_has_role(r.oid, g.oid, 'MEMBER') ORDER BY 1) AS powers,
  ARRAY(SELECT n.nspname::text FROM pg_namespace n
        WHERE n.nspname = ANY($1::text[]) AND has_schema_privilege(n.oid, 'CREATE') ORDER BY 1) AS schema_create,
  ARRAY(SELECT p.priv || ' on ' || n.nspname || '.' || c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p(priv)
        WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND has_table_privilege(c.oid, p.priv)
        ORDER BY 1 LIMIT 6) AS table_writes
FROM pg_roles r WHERE r.rolname = current_user`;

interface RoleRow {
  role: string;
  rolsuper: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolbypassrls: boolean;
  rolreplication: boolean;
  db: string;
  db_create: boolean;
  powers: string[];
  schema_create: string[];
  table_writes: string[];
}

/** The connecting role, and what makes it more than a reader, in words (none for a read-only role). */
export async function inspectRole(
  client: pg.ClientBase,
  schemas: string[],
): Promise<{ role: string; reasons: string[] }> {
  const { rows } = await client.query<RoleRow>({
    text: ROLE_SQL,
    values: [schemas, POWERFUL_ROLES],
  });
  const r = rows[0];
  if (!r) return { role: "?", reasons: ["its attributes could not be read"] };
  const reasons: string[] = [];
  if (r.rolsuper) reasons.push("it is a superuser");
  if (r.rolcreaterole) reasons.push("CREATEROLE");
  if (r.rolcreatedb) reasons.push("CREATEDB");
  if (r.rolbypassrls) reasons.push("BYPASSRLS");
  if (r.rolreplication) reasons.push("REPLICATION");
  if (r.db_create) reasons.push(`CREATE on database ${r.db}`);
  for (const s of r.schema_create) reasons.push(`CREATE on schema ${s}`);
  const writes = r.table_writes.slice(0, 5);
  if (writes.length) reasons.push(writes.join(", ") + (r.table_writes.length > 5 ? ", …" : ""));
  if (r.powers.length) reasons.push(`member of ${r.powers.join(", ")}`);
  return { role: r.role, reasons };
}

/** Refuses a role that can write or reach the server's files, unless the operator said otherwise. */
export async function requireReadOnlyRole(client: pg.ClientBase, schemas: string[]): Promise<void> {
  const { role, reasons } = await inspectRole(client, schemas);
  if (!reasons.length) return;
  throw new ToolshedError(
    "forbidden",
    `refusing to query PostgreSQL as role "${role}": ${reasons.join("; ")}. ` +
      "A model's SQL runs as this role, so it must only be able to read: connect as a role with " +
      "CONNECT, USAGE on the schemas and SELECT on their tables (the data-analytics README, " +
      '"A read-only role", has the SQL), or pass --postgres-allow-privileged-role ' +
      "(TOOLSHED_POSTGRES_ALLOW_PRIVILEGED_ROLE=true) to use it anyway.",
  );
}
