// "Now", ticking every 30 seconds, so "3 minutes ago" stays true while a view is open.

class Clock {
  now = $state(Date.now() / 1000);
  private timer: ReturnType<typeof setInterval> | null = null;

  start() {
    if (this.timer || typeof window === "undefined") return;
    this.timer = setInterval(() => {
      this.now = Date.now() / 1000;
    }, 30_000);
  }
}

export const clock = new Clock();
