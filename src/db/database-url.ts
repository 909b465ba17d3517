/** Parses DATABASE_URL into what knex needs, with messages that say what is wrong. */
import path from 'node:path';

export type DatabaseTarget =
  | { readonly client: 'sqlite'; readonly filename: string; readonly url: string }
  | {
      readonly client: 'mysql';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string;
      readonly database: string;
      readonly url: string;
    };

export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const value = raw.trim();
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '')
      throw new Error('must name a file after "sqlite:" (e.g. sqlite:var/media-worker.sqlite)');
    if (file === ':memory:') {
      throw new Error('cannot be an in-memory SQLite database: several processes must share the file');
    }
    return { client: 'sqlite', filename: path.resolve(file), url: value };
  }
  if (/^(mysql|mariadb):\/\//.test(value)) return parseMysqlUrl(value);
  throw new Error(`must start with sqlite: or mysql:// (got "${redact(value)}")`);
}

function parseMysqlUrl(value: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`is not a valid URL (got "${redact(value)}")`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.hostname) throw new Error('must name a host (mysql://user:pass@host:3306/db)');
  if (!database || database.includes('/')) {
    throw new Error('must name one database after the host (mysql://user:pass@host:3306/db)');
  }
  const port = url.port === '' ? 3306 : Number(url.port);
  return {
    client: 'mysql',
    host: url.hostname,
    port,
    user: decodeURIComponent(url.username) || 'root',
    password: decodeURIComponent(url.password),
    database,
    url: redact(value),
  };
}

/** Never print a password, even in an error message. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
