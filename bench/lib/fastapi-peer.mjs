// Child process: runs the FastAPI + onnxruntime peer (fastapi_peer.py) under uvicorn with N workers
// and speaks bench/lib's IPC protocol for it, so bench/serving.mjs measures it like any other server.
// argv[2]: JSON { onnxPath, features, workers, python } (the tabular peer), or with { app, env,
// readyPath } another peer module (bench/image-serving.mjs: fastapi_image_peer:app, GET /health).
//   → { type: 'ready', port, python: versions }   ← { type: 'cpu', id } → CPU of the uvicorn process tree
//   ← { type: 'stop' } → SIGTERM uvicorn, { type: 'stopped' }
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const { onnxPath, features = [], workers = 1, python, app = 'fastapi_peer:app', env = {}, readyPath } = JSON.parse(process.argv[2]);
const here = dirname(fileURLToPath(import.meta.url));

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** utime + stime of a process and its descendants, in µs (process.cpuUsage's unit). */
function treeCpu(pid) {
  const tick = 1e6 / 100; // USER_HZ
  let user = 0;
  let system = 0;
  const visit = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]) * tick;
      system += Number(f[12]) * tick;
      for (const t of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(c));
      }
    } catch {
      // a worker that exited meanwhile
    }
  };
  visit(pid);
  return { user, system };
}

async function main() {
  const port = await freePort();
  const uvicorn = spawn(
    python,
    ['-m', 'uvicorn', app, '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers), '--log-level', 'warning', '--no-access-log', '--loop', 'uvloop', '--http', 'httptools'],
    {
      cwd: here,
      env: { ...process.env, PEER_ONNX: onnxPath, PEER_FEATURES: JSON.stringify(features), OMP_NUM_THREADS: '1', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  uvicorn.on('exit', (code) => {
    if (!stopping) {
      process.send?.({ type: 'error', message: `uvicorn exited with ${code}` });
      process.exit(1);
    }
  });
  let stopping = false;
  // Ready when a prediction answers (every worker has loaded the session by the first few answers).
  const body = JSON.stringify({ features: Object.fromEntries(features.map((f) => [f, 1])) });
  for (let i = 0; ; i++) {
    try {
      const url = `http://127.0.0.1:${port}${readyPath ?? '/api/v1/ml-models/predict'}`;
      const res = await fetch(url, readyPath ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error('the FastAPI peer did not answer within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const versions = await new Promise((resolve) => {
    const p = spawn(python, [
      '-c',
      'import fastapi, uvicorn, onnxruntime, numpy, sys; import importlib.util as u; pil = __import__("PIL").__version__ if u.find_spec("PIL") else "-"; print(f"python {sys.version.split()[0]}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}, pillow {pil}")',
    ]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', () => resolve(out.trim()));
  });
  process.on('message', (msg) => {
    if (msg?.type === 'cpu') {
      process.send({ type: 'cpu:reply', id: msg.id, ...treeCpu(uvicorn.pid), loopDelay: { p50: 0, p99: 0, max: 0 }, counters: null });
    } else if (msg?.type === 'stop') {
      stopping = true;
      uvicorn.once('exit', () => process.send({ type: 'stopped' }, () => process.exit(0)));
      uvicorn.kill('SIGTERM');
    }
  });
  process.on('disconnect', () => {
    uvicorn.kill('SIGKILL');
    process.exit(1);
  });
  process.send({ type: 'ready', port, peer: versions, workers });
}

main().catch((err) => {
  process.send?.({ type: 'error', message: String(err.message ?? err) });
  process.exit(1);
});
