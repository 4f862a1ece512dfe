// Where the person is: one of the main views, or one project (with a tab). Kept in the URL
// hash so Back and Forward work and a reload stays in place.

export type ProjectTab = "files" | "history" | "records" | "git";
export type Route =
  | { view: "dashboard" }
  | { view: "projects" }
  | { view: "project"; id: string; tab: ProjectTab }
  | { view: "workspaces" }
  | { view: "backups" }
  | { view: "archives" }
  | { view: "cleanup" }
  | { view: "settings" };

/** The views of the sidebar, in order: Ctrl+1 opens the first. */
export const MAIN_VIEWS = ["dashboard", "projects", "workspaces", "backups", "archives", "cleanup", "settings"] as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "projects":
      return { view: "projects" };
    case "project": {
      const tab = parts[2] === "history" || parts[2] === "records" || parts[2] === "git" ? parts[2] : "files";
      return parts[1] ? { view: "project", id: parts[1], tab } : { view: "projects" };
    }
    case "workspaces":
      return { view: "workspaces" };
    case "backups":
      return { view: "backups" };
    case "archives":
      return { view: "archives" };
    case "cleanup":
      return { view: "cleanup" };
    case "settings":
      return { view: "settings" };
    default:
      return { view: "dashboard" };
  }
}

export function routeHash(route: Route): string {
  if (route.view === "project") return `#/project/${encodeURIComponent(route.id)}/${route.tab}`;
  return `#/${route.view}`;
}

export class Router {
  route = $state<Route>({ view: "dashboard" });

  constructor() {
    if (typeof window !== "undefined") {
      this.route = parseRoute(window.location.hash);
      window.addEventListener("hashchange", () => {
        this.route = parseRoute(window.location.hash);
      });
    }
  }

  go(route: Route) {
    this.route = route;
    if (typeof window !== "undefined") {
      const hash = routeHash(route);
      if (window.location.hash !== hash) window.location.hash = hash;
    }
  }

  openProject(id: string, tab: ProjectTab = "files") {
    this.go({ view: "project", id, tab });
  }
}
