// Short messages about what just happened ("Version 3f2a9c1e taken"), and errors that belong to
// no form field. They go away by themselves.

export type Notice = { id: number; kind: "success" | "info" | "error"; text: string };

export class Notices {
  list = $state<Notice[]>([]);
  private next = 1;

  push(kind: Notice["kind"], text: string, ms = kind === "error" ? 9000 : 5000) {
    const id = this.next++;
    this.list.push({ id, kind, text });
    if (ms > 0) setTimeout(() => this.dismiss(id), ms);
    return id;
  }

  success(text: string) {
    return this.push("success", text);
  }
  info(text: string) {
    return this.push("info", text);
  }
  error(text: string) {
    return this.push("error", text);
  }

  dismiss(id: number) {
    this.list = this.list.filter((n) => n.id !== id);
  }
}
