// The double's record of transfers: a JSON-lines file in the state directory, every line written
// and fsync'd before the request that caused it is answered, so a restart of the double (or of its
// client) finds every transfer it ever acknowledged. Lines are snapshots: the last line for a
// transfer id is its state. Card numbers are kept masked only.
//   store = new TransferStore(dir)
//   store.put(transfer)                 durable before it returns
//   store.byReference(ref), store.byId(id) -> transfer or undefined
//   store.noteReceived(ref, what) -> how many `what` ("POST", "GET", "reset") that ref has had
//   store.counts(ref) -> {POST, GET, reset}
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class TransferStore {
  constructor(dir) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'transfers.jsonl');
    this.byIdMap = new Map();
    this.refToId = new Map();
    this.received = new Map();  // ref -> {POST, GET, reset}
    this.load();
    this.fd = openSync(this.path, 'a');
    // The directory entry of a new file must be durable too.
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }

  load() {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    // A torn last line (a crash mid-write) was never acknowledged: it is dropped.
    if (lines.length && lines[lines.length - 1] !== '') lines.pop();
    for (const line of lines) {
      if (line) this.apply(JSON.parse(line));
    }
  }

  apply(record) {
    if (record.type === 'transfer') {
      this.byIdMap.set(record.transfer.id, record.transfer);
      this.refToId.set(record.transfer.transfer_reference, record.transfer.id);
    } else if (record.type === 'received') {
      const counts = this.counts(record.reference);
      counts[record.what] += 1;
      this.received.set(record.reference, counts);
    }
  }

  append(record) {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.fd);
    this.apply(record);
  }

  put(transfer) {
    this.append({ type: 'transfer', transfer });
  }

  noteReceived(reference, what) {
    this.append({ type: 'received', reference, what });
    return this.counts(reference)[what];
  }

  counts(reference) {
    return { ...(this.received.get(reference) ?? { POST: 0, GET: 0, reset: 0 }) };
  }

  byReference(reference) {
    const id = this.refToId.get(reference);
    return id === undefined ? undefined : this.byIdMap.get(id);
  }

  byId(id) {
    return this.byIdMap.get(id);
  }

  references() {
    return [...new Set([...this.refToId.keys(), ...this.received.keys()])];
  }

  close() {
    closeSync(this.fd);
  }
}
