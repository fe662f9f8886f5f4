/** The job queue's contract, run on SQLite (npm test) and on a real PostgreSQL (npm run test:services). */
import { expect, it } from 'vitest';
import { JobQueue, PipelineWorker, PipelineRunStore } from '../../src/pipelines/index.js';
import type { Database } from '../../src/store/index.js';

export function jobQueueContract(open: () => Promise<Database[]>) {
  it('two workers share the jobs; each job runs exactly once', async () => {
    const [d1, d2] = await open();
    const q1 = new JobQueue(d1!, { leaseMs: 5000 });
    const q2 = new JobQueue(d2!, { leaseMs: 5000 });
    for (let i = 0; i < 20; i++) await q1.enqueue('work', { i });
    const seen: Array<[string, number]> = [];
    const handler = (name: string) => async (job: { payload: Record<string, unknown> }) => {
      seen.push([name, Number(job.payload.i)]);
      await new Promise((r) => setTimeout(r, 5));
    };
    const w1 = new PipelineWorker(q1, { work: handler('w1') }, { workerId: 'w1' });
    const w2 = new PipelineWorker(q2, { work: handler('w2') }, { workerId: 'w2' });
    const drain = async (w: PipelineWorker) => {
      while (await w.runOnce()) {
        /* next */
      }
    };
    await Promise.all([drain(w1), drain(w2)]);
    expect(seen.map(([, i]) => i).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await q1.list({ status: 'done' })).length).toBe(20);
    expect(new Set(seen.map(([w]) => w))).toEqual(new Set(['w1', 'w2'])); // both took a share
    return seen;
  });

  it("a crashed worker's job is recovered by another worker, or failed visibly when attempts run out", async () => {
    const [d1, d2] = await open();
    const crashed = new JobQueue(d1!, { leaseMs: 150 });
    const q2 = new JobQueue(d2!, { leaseMs: 150 });
    const runs = new PipelineRunStore(d2!);
    const run = (await runs.create({ pipeline: 'cicd', trigger: 'manual', request: {} }))!;
    const job = await crashed.enqueue('work', { n: 1 }, { runId: run.id, maxAttempts: 2 });
    expect((await crashed.claim('crasher'))!.id).toBe(job.id); // claimed, then the worker "dies": no heartbeat
    expect(await q2.claim('other')).toBeNull(); // held by the lease
    await new Promise((r) => setTimeout(r, 250));
    const ran: string[] = [];
    const w2 = new PipelineWorker(q2, { work: async (j) => void ran.push(j.id) }, { workerId: 'rescuer' });
    expect(await w2.runOnce()).toBe(true);
    expect(ran).toEqual([job.id]);
    const after = (await q2.get(job.id))!;
    expect(after).toMatchObject({ status: 'done', attempts: 2 });
    expect(after.last_error).toMatch(/crasher stopped heartbeating.*re-queued/);
    expect(await crashed.heartbeat(job.id, 'crasher')).toBe(false); // the old worker has lost it

    // Out of attempts: failed, and its run says why.
    const doomed = await crashed.enqueue('work', {}, { runId: run.id, maxAttempts: 1 });
    await crashed.claim('crasher');
    await new Promise((r) => setTimeout(r, 250));
    const abandoned: string[] = [];
    const w3 = new PipelineWorker(
      q2,
      { work: async () => undefined },
      {
        workerId: 'rescuer2',
        onAbandoned: async (j) => {
          abandoned.push(j.id);
          await runs.update(j.run_id!, { status: 'failed', error: j.last_error });
        },
      },
    );
    await w3.runOnce();
    expect(abandoned).toEqual([doomed.id]);
    expect(await q2.get(doomed.id)).toMatchObject({ status: 'failed' });
    expect((await runs.get(run.id)).error).toMatch(/stopped heartbeating.*gave up after 1 attempts/);
  });

  it('a running job keeps its lease by heartbeat', async () => {
    const [d1] = await open();
    const q = new JobQueue(d1!, { leaseMs: 120 });
    const job = await q.enqueue('slow', {});
    const w = new PipelineWorker(q, { slow: () => new Promise((r) => setTimeout(r, 400)) }, { workerId: 'steady' });
    const running = w.runOnce();
    await new Promise((r) => setTimeout(r, 250));
    expect((await q.recoverExpired()).requeued).toHaveLength(0);
    await running;
    expect(await q.get(job.id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('a job waiting on data is snoozed: queued again for later, without holding a worker or using up its attempts', async () => {
    const [d1, d2] = await open();
    const q = new JobQueue(d1!, { leaseMs: 5000 });
    const job = await q.enqueue('wait-for-data', {}, { maxAttempts: 1 });
    let looks = 0;
    const w = new PipelineWorker(q, { 'wait-for-data': async () => (++looks < 3 ? { retryInMs: 150 } : undefined) }, { workerId: 'patient' });
    expect(await w.runOnce()).toBe(true);
    expect(await q.get(job.id)).toMatchObject({ status: 'queued', attempts: 0, locked_by: null });
    expect(await new JobQueue(d2!).claim('eager')).toBeNull(); // not before its time, by no worker
    expect(await w.runOnce()).toBe(false);
    for (let i = 0; i < 40 && looks < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await w.runOnce();
    }
    expect(looks).toBe(3);
    expect(await q.get(job.id)).toMatchObject({ status: 'done', attempts: 1 });
  });
}
