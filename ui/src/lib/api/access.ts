// What a caller may ask: the scope of its token or browser session against the scope each
// operation needs, as the OpenAPI document says it (`routes.ts`, from the service's declarations:
// reading needs `read`, changing `write`, destroying, setup and upkeep `admin`). The window is
// its person's and may do everything; a browser signed in with less is offered what it may do.

import { CALLS, type CallName } from "./calls";
import { ROUTES } from "./routes";

export type Scope = "read" | "write" | "admin";

const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** The scope command `name` needs: the most any operation it may be sent as needs. */
export function needs(name: CallName): Scope {
  let most: Scope = "read";
  for (const { op } of CALLS[name].variants) {
    const scope = ROUTES[op][2];
    if (scope !== null && RANK[scope] > RANK[most]) most = scope;
  }
  return most;
}

/** Why a caller of `scope` may not ask for `name`, in words for a tooltip; null when it may. */
export function refusal(scope: Scope | null, name: CallName): string | null {
  return refusalAt(scope, needs(name));
}

/**
 * Why a caller of `scope` may not ask for what needs `need`, in words for a tooltip; null when it
 * may. (What the document lists for an operation with a dry run is its dry run's need: a run that
 * is not dry needs `admin`.)
 */
export function refusalAt(scope: Scope | null, need: Scope): string | null {
  if (scope === null || RANK[scope] >= RANK[need]) return null;
  return `This browser is signed in with a ${scope} token, and this needs ${need === "admin" ? "an admin" : "a write"} token: run “kura serve token --scope ${need}” on the computer Kura runs on, and sign in with it.`;
}
