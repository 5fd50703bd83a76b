import { ToolshedError } from "@toolshed/server";
import { stripSql } from "./sql-guard.js";

const ALLOWED_START = /^(select|with|values|table|explain|show|\()/i;
/**
 * Functions that read server files, run SQL text, change settings or signal other backends. A
 * READ ONLY transaction still allows all of these (they are not writes), so they are refused here.
 */
const FORBIDDEN_FUNCTION =
  /\b(pg_read_file|pg_read_binary_file|pg_ls_\w+|pg_stat_file|lo_\w+|set_config|current_setting|query_to_xml\w*|cursor_to_xml\w*|database_to_xml\w*|schema_to_xml\w*|ts_stat|dblink\w*|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_sleep\w*|pg_advisory\w*|pg_try_advisory\w*|pg_notify|pg_logical_\w+|pg_replication_\w+|pg_create_\w+|pg_drop_\w+|pg_switch_wal|pg_backup_\w+|pg_promote|pg_file_\w+|pg_import_\w+)\s*\(/i;

const refuse = (why: string) =>
  new ToolshedError(
    "invalid_input",
    `${why}. Only one read-only statement is allowed (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW) over the database's tables.`,
  );

/**
 * The PostgreSQL guard: one statement, starting with a read-only keyword, calling no file, settings
 * or SQL-text function (checked on the stripped text and on the raw text, so names inside string
 * literals fed to SQL-running functions are caught too). The READ ONLY transaction with a
 * statement_timeout the engine wraps every statement in is the backstop for anything else.
 */
export function checkPostgresReadOnly(sql: string): void {
  const stripped = stripSql(sql).trim().replace(/;\s*$/, "");
  if (!stripped) throw refuse("empty SQL");
  if (stripped.includes(";")) throw refuse("multiple statements are not allowed");
  if (!ALLOWED_START.test(stripped)) {
    throw refuse(`'${stripped.split(/\s+/)[0]!.slice(0, 20).toUpperCase()}' statements are not allowed`);
  }
  if (/\binto\b/i.test(stripped)) throw refuse("SELECT ... INTO creates a table and is not allowed");
  if (/""\s*\(/.test(stripped)) throw refuse("quoted function names are not allowed");
  if (/\$\w*\$/.test(stripped)) throw refuse("dollar-quoted strings are not allowed");
  const hit = FORBIDDEN_FUNCTION.exec(stripped) ?? FORBIDDEN_FUNCTION.exec(sql);
  if (hit) {
    throw refuse(
      `function ${hit[1]}() is not allowed in queries (it reads server files, changes settings or runs SQL text)`,
    );
  }
}
