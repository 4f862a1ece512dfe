// Owns a well-known name on the session D-Bus from the test, as a desktop's tray host owns
// `org.kde.StatusNotifierWatcher`: the app then counts on a tray. A few lines of the D-Bus wire
// protocol (EXTERNAL auth, Hello, RequestName), so the tests need no D-Bus library.
import net from 'node:net';

/** Little-endian D-Bus marshalling of the few types needed here, with their alignment. */
class Writer {
  bytes = [];
  pad(n) {
    while (this.bytes.length % n) this.bytes.push(0);
  }
  u32(v) {
    this.pad(4);
    this.bytes.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  }
  str(s) {
    const b = Buffer.from(s);
    this.u32(b.length);
    this.bytes.push(...b, 0);
  }
  sig(s) {
    this.bytes.push(s.length, ...Buffer.from(s), 0);
  }
}

let serial = 0;

/** A method call to the bus itself: `member` with `body` ([type, value] of `s` and `u`). */
function call(member, signature, body) {
  const b = new Writer();
  for (const [type, value] of body) {
    if (type === 's') b.str(value);
    else b.u32(value);
  }
  const h = new Writer();
  h.bytes.push(108, 1, 0, 1); // little-endian, method call, no flags, version 1
  h.u32(b.bytes.length);
  h.u32(++serial);
  const fields = new Writer();
  const field = (code, type, value) => {
    fields.pad(8);
    fields.bytes.push(code);
    fields.sig(type);
    if (type === 'g') fields.sig(value);
    else fields.str(value);
  };
  field(1, 'o', '/org/freedesktop/DBus');
  field(2, 's', 'org.freedesktop.DBus');
  field(3, 's', member);
  field(6, 's', 'org.freedesktop.DBus');
  if (signature) field(8, 'g', signature);
  // The fields start at offset 16, which is 8-aligned: their own padding holds as written.
  h.u32(fields.bytes.length);
  h.bytes.push(...fields.bytes);
  h.pad(8);
  return Buffer.from([...h.bytes, ...b.bytes]);
}

/** Owns `name` on the session bus until the returned socket is closed (`.destroy()`). */
export function ownName(name) {
  const address = process.env.DBUS_SESSION_BUS_ADDRESS ?? '';
  const m = /unix:(path|abstract)=([^,]+)/.exec(address);
  if (!m) throw new Error(`no session bus to own ${name} on (${address})`);
  const socket = net.createConnection(m[1] === 'abstract' ? `\0${m[2]}` : m[2]);
  return new Promise((resolve, reject) => {
    let stage = 'auth';
    let seen = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      const uid = Buffer.from(String(process.getuid())).toString('hex');
      socket.write(Buffer.concat([Buffer.from([0]), Buffer.from(`AUTH EXTERNAL ${uid}\r\n`)]));
    });
    socket.on('data', (chunk) => {
      seen = Buffer.concat([seen, chunk]);
      if (stage === 'auth' && seen.includes('\r\n')) {
        if (!seen.toString().startsWith('OK')) return reject(new Error(`D-Bus refused: ${seen}`));
        stage = 'owning';
        seen = Buffer.alloc(0);
        socket.write('BEGIN\r\n');
        socket.write(call('Hello', '', []));
        socket.write(call('RequestName', 'su', [['s', name], ['u', 4]]));
        // Replies come back in order; the second is RequestName's. Give them a moment.
        setTimeout(() => resolve(socket), 300);
      }
    });
  });
}
