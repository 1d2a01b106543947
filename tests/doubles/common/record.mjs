// A double's durable record: a JSON-lines file in its state directory, every line written and
// fsync'd before the request that caused it is answered, so a restart of the double (or a kill -9)
// finds every entity it ever acknowledged. Lines are snapshots: the last line for an entity id is
// its state. Callers store card numbers masked only.
//   record = new DurableRecord(dir, {file, keyOf, kinds, sync})
//     sync: false (the --no-fsync option, for benchmarks only) writes every line without fsync
//     keyOf(entity) -> the key a client looks the entity up by (several entities may share one)
//     kinds: what noteReceived counts per key, e.g. ['POST', 'GET', 'reset']
//   record.put(entity)                  entity.id identifies it; durable before it returns
//   record.byId(id), record.byKey(key) -> the latest entity (undefined if none)
//   record.allByKey(key) -> the key's entities, oldest first; record.all() -> every entity
//   record.noteReceived(key, kind) -> how many `kind` that key has had, this one included
//   record.counts(key) -> {kind: n, ...}; record.keys() -> every key seen
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DurableRecord {
  constructor(dir, { file, keyOf, kinds, sync = true }) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, file);
    this.keyOf = keyOf;
    this.kinds = kinds;
    this.sync = sync;
    this.entities = new Map();   // id -> entity
    this.idsByKey = new Map();   // key -> [id, ...] in order of creation
    this.received = new Map();   // key -> {kind: n}
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

  apply(line) {
    if (line.type === 'entity') {
      const { entity } = line;
      if (!this.entities.has(entity.id)) {
        const key = this.keyOf(entity);
        this.idsByKey.set(key, [...(this.idsByKey.get(key) ?? []), entity.id]);
      }
      this.entities.set(entity.id, entity);
    } else if (line.type === 'received') {
      const counts = this.counts(line.key);
      counts[line.kind] += 1;
      this.received.set(line.key, counts);
    }
  }

  append(line) {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    if (this.sync) fsyncSync(this.fd);
    this.apply(line);
  }

  put(entity) {
    this.append({ type: 'entity', entity });
  }

  noteReceived(key, kind) {
    if (!this.kinds.includes(kind)) throw new Error(`unknown kind ${kind}`);
    this.append({ type: 'received', key, kind });
    return this.counts(key)[kind];
  }

  counts(key) {
    const zero = Object.fromEntries(this.kinds.map((k) => [k, 0]));
    return { ...zero, ...(this.received.get(key) ?? {}) };
  }

  allByKey(key) {
    return (this.idsByKey.get(key) ?? []).map((id) => this.entities.get(id));
  }

  byKey(key) {
    return this.allByKey(key).at(-1);
  }

  byId(id) {
    return this.entities.get(id);
  }

  all() {
    return [...this.entities.values()];
  }

  keys() {
    return [...new Set([...this.idsByKey.keys(), ...this.received.keys()])];
  }

  close() {
    closeSync(this.fd);
  }
}
