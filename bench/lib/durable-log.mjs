// The "durable floor"'s log: what the floor (floor-server.mjs, given a dbFile) adds to be the least a
// server must do to never lose an answered prediction: each row (id, model, input, output, time) handed to a writer
// thread that owns its own SQLite connection (WAL, synchronous=NORMAL, as Vitals' default) and
// commits by group commit (everything that arrived, at most one commit per 2 ms); the answer goes out
// once its row is committed. No indexes beyond the primary key, no outbox, no monitoring.
// It is the reference for "serving with commit ack" that any implementation on this machine pays.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The writer thread: receives arrays of rows, commits them in one transaction per group.
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.dbFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table if not exists log (id text primary key, model text, input text, output text, created_at text)');
const insert = db.prepare('insert into log values (?, ?, ?, ?, ?)');
const write = db.transaction((rows) => { for (const r of rows) insert.run(r); });
let held = [], upTo = 0, last = 0, timer = null;
function commit() {
  timer = null; last = Date.now();
  const rows = held; held = [];
  write(rows);
  parentPort.postMessage(upTo);
}
parentPort.on('message', ({ seq, rows }) => {
  for (const r of rows) held.push(r);
  upTo = seq;
  if (!timer) { const wait = Math.max(0, 2 - (Date.now() - last)); timer = wait ? setTimeout(commit, wait) : setImmediate(commit); }
});
`;

/** Starts the writer thread; `durably(row)` resolves once the row is committed. */
export function startDurableLog(dbFile) {
  const writer = new Worker(WRITER, { eval: true, workerData: { dbFile, sqlite: createRequire(import.meta.url).resolve('better-sqlite3') } });
  // Rows of one event-loop turn go to the writer as one message; each answer waits for its batch.
  let queue = [];
  let seq = 0;
  let scheduled = false;
  const waiting = new Map(); // seq → resolvers
  let current = [];
  writer.on('message', (committed) => {
    for (const [s, list] of waiting) {
      if (s > committed) break;
      for (const resolve of list) resolve();
      waiting.delete(s);
    }
  });
  const dispatch = () => {
    scheduled = false;
    seq += 1;
    waiting.set(seq, current);
    writer.postMessage({ seq, rows: queue });
    queue = [];
    current = [];
  };
  const durably = (row) =>
    new Promise((resolve) => {
      queue.push(row);
      current.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(dispatch);
      }
    });
  return { durably, close: () => writer.terminate() };
}
