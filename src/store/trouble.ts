/**
 * Database trouble in words a person can act on: which file, what is wrong, how to fix it.
 * Pure: maps a SQLite error (by its code) to a status and a one-line message.
 */
export interface DatabaseTrouble {
  /** 507 when the disk is full, 503 otherwise (the request may work once it is fixed). */
  status: 503 | 507;
  message: string;
}

const CODE = /^SQLITE_([A-Z]+)/;

export function databaseTrouble(error: unknown, file?: string): DatabaseTrouble | undefined {
  const code = (error as { code?: unknown })?.code;
  const kind = typeof code === "string" ? CODE.exec(code)?.[1] : undefined;
  if (!kind) return undefined;
  const where = file ? ` (${file})` : "";
  switch (kind) {
    case "FULL":
      return {
        status: 507,
        message: `the disk holding the database${where} is full: nothing was stored; free some space`,
      };
    case "READONLY":
    case "CANTOPEN":
    case "PERM":
    case "AUTH":
      return {
        status: 503,
        message: `the database${where} cannot be written: make its folder (DATA_DIR) writable for the user the service runs as`,
      };
    case "CORRUPT":
    case "NOTADB":
      return {
        status: 503,
        message: `the database${where} is damaged or not a database: stop the service and move the file aside (or restore a backup); a new one is created at start`,
      };
    default:
      return { status: 503, message: `the database${where} failed (${code}): see the service log` };
  }
}
