// The add-target form: where (a folder or an S3 bucket), encryption, where secrets live, when it
// runs, what it keeps and its upload limit; what it sends to the engine, the checks that need no
// engine (passphrases typed twice, fields left empty), and which field an engine error belongs
// to. The engine reads the upload limit as typed.

import type { KuraError } from "../api/client";
import type { Location, Retention, Target, TargetSecrets } from "../api/types";
import { fullRetention, targetErrorField, type TargetField } from "../backups";

export type FormField = TargetField | "passphrase2";

export class TargetForm {
  name = $state("");
  kind = $state<Location["kind"]>("folder");
  path = $state("");
  endpoint = $state("");
  region = $state("us-east-1");
  bucket = $state("");
  prefix = $state("kura");
  pathStyle = $state(true);
  accessKeyId = $state("");
  secretAccessKey = $state("");
  encrypt = $state(false);
  passphrase = $state("");
  passphrase2 = $state("");
  /** Where the engine finds secrets: the OS keyring (typed here), or the environment. */
  secretsIn = $state<"keyring" | "env">("keyring");
  schedule = $state("daily at 02:00");
  retention = $state<Required<Retention>>({ keep_last: 3, hourly: 0, daily: 7, weekly: 4, monthly: 12, retention_days: 0 });
  bandwidth = $state("");
  errors = $state<Partial<Record<FormField, string>>>({});

  /** Whether the target needs any secret (S3 keys, or a passphrase). */
  get needsSecrets(): boolean {
    return this.kind === "s3" || this.encrypt;
  }

  location(): Location {
    if (this.kind === "folder") return { kind: "folder", path: this.path.trim() };
    return {
      kind: "s3",
      endpoint: this.endpoint.trim(),
      region: this.region.trim() || "us-east-1",
      bucket: this.bucket.trim(),
      prefix: this.prefix.trim().replace(/^\/+|\/+$/g, ""),
      path_style: this.pathStyle,
    };
  }

  /** Checks what needs no engine; true when the form can be sent. */
  check(): boolean {
    const errors: Partial<Record<FormField, string>> = {};
    if (!this.name.trim()) errors.name = "Give the target a name, e.g. usb-drive.";
    if (this.kind === "folder" && !this.path.trim()) errors.location = "Choose or type a folder.";
    if (this.kind === "s3" && !this.endpoint.trim()) errors.location = "Type the endpoint's URL, e.g. https://s3.eu-central-1.amazonaws.com.";
    if (this.encrypt && this.secretsIn === "keyring") {
      if (!this.passphrase) errors.passphrase = "Type a passphrase.";
      else if (this.passphrase !== this.passphrase2) errors.passphrase2 = "The two passphrases differ.";
    }
    this.errors = errors;
    return Object.keys(errors).length === 0;
  }

  target(): Target {
    return {
      name: this.name.trim(),
      location: this.location(),
      encrypt: this.encrypt,
      schedule: this.schedule.trim(),
      retention: cleanRetention(this.retention),
      bandwidth_limit: this.bandwidth.trim() || null,
    };
  }

  /** What goes to the keyring; nothing when the environment holds the secrets. */
  secrets(): TargetSecrets {
    if (this.secretsIn === "env") return { access_key_id: null, secret_access_key: null, passphrase: null };
    const s3 = this.kind === "s3";
    return {
      access_key_id: s3 && this.accessKeyId.trim() ? this.accessKeyId.trim() : null,
      secret_access_key: s3 && this.secretAccessKey ? this.secretAccessKey : null,
      passphrase: this.encrypt && this.passphrase ? this.passphrase : null,
    };
  }

  /** Puts an engine error at its field; returns the field. */
  showError(e: KuraError): FormField {
    const field = targetErrorField(e.code, e.field);
    this.errors = { [field]: e.message };
    return field;
  }
}

/** Whole, non-negative numbers for every rule (an emptied field is 0). */
export function cleanRetention(r: Retention): Required<Retention> {
  const f = fullRetention(r);
  const n = (v: unknown) => Math.max(0, Math.floor(Number(v) || 0));
  return {
    keep_last: n(f.keep_last),
    hourly: n(f.hourly),
    daily: n(f.daily),
    weekly: n(f.weekly),
    monthly: n(f.monthly),
    retention_days: n(f.retention_days),
  };
}
