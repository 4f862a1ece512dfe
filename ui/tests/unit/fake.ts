// A transport for unit tests of the client and the stores: it answers only what a test gives it
// (canned values or functions), knows no engine rule, and lets a test emit events and drops.
// Anything not given fails with `internal`, naming the command.

import type { DropEvent, Transport } from "../../src/lib/api/transport";
import type { ApiError, BackupStatus, ErrorCode, Result, VaultChanged } from "../../src/lib/api/types";

type Answers = { [K in keyof Transport]?: unknown };

export type Fake = Transport & {
  calls: string[];
  emitChange(event: VaultChanged): void;
  emitBackupStatus(status: BackupStatus): void;
  emitDrop(event: DropEvent): void;
};

export const ok = <T>(data: T): Result<T, ApiError> => ({ status: "ok", data });
export const fail = (code: string, message = code): Result<never, ApiError> => ({ status: "error", error: { code: code as ErrorCode, message, subject: null } });

/**
 * `answers[command]`: a value (answered as `ok`), a `Result`, or a function of the command's
 * arguments returning either (sync or async).
 */
export function fakeTransport(answers: Answers = {}): Fake {
  const listeners = { change: new Set<(e: VaultChanged) => void>(), status: new Set<(s: BackupStatus) => void>(), drop: new Set<(e: DropEvent) => void>() };
  const calls: string[] = [];
  const subscribe = <T>(set: Set<T>) => async (listener: T) => {
    set.add(listener);
    return () => void set.delete(listener);
  };
  const own: Partial<Fake> = {
    calls,
    emitChange: (e) => listeners.change.forEach((l) => l(e)),
    emitBackupStatus: (s) => listeners.status.forEach((l) => l(s)),
    emitDrop: (e) => listeners.drop.forEach((l) => l(e)),
    onVaultChanged: subscribe(listeners.change),
    onBackupStatus: subscribe(listeners.status),
    onDrop: subscribe(listeners.drop),
  };
  return new Proxy(own as Fake, {
    get(target, name: string) {
      if (name in target) return target[name as keyof Fake];
      if (name === "then") return undefined;
      return async (...args: unknown[]) => {
        calls.push(name);
        if (!(name in answers)) return fail("internal", `the fake was not told what ${name} answers`);
        const given = (answers as Record<string, unknown>)[name];
        const value = typeof given === "function" ? await given(...args) : given;
        const isResult = typeof value === "object" && value !== null && "status" in value && ((value as { status: unknown }).status === "ok" || (value as { status: unknown }).status === "error");
        return isResult ? value : ok(value);
      };
    },
  });
}
