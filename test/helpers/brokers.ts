/**
 * Real brokers for test/services/messaging-*.test.ts, run by the project's own scripts on loopback
 * (scripts/services/rabbitmq.sh, scripts/services/kafka.sh). The tests start them (installing
 * RabbitMQ or fetching the Kafka jars on first use) and stop/start them for the fault tests, so
 * the runner needs no broker setup; a broker that cannot start fails the test, never skips it.
 */
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type BrokerName = 'rabbitmq' | 'kafka';

/**
 * Runs `scripts/services/<broker>.sh <command>` without blocking the event loop; returns stdout.
 * `env` reaches the script: e.g. VITALS_KAFKA_PORT for a broker of a test's own.
 */
export async function brokerScript(broker: BrokerName, command: 'start' | 'stop' | 'kill' | 'status' | 'url', env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run('bash', [resolve(REPO_ROOT, `scripts/services/${broker}.sh`), command], {
      cwd: REPO_ROOT,
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, ...env },
    });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/services/${broker}.sh ${command} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** Whether the broker's script reports it running. */
export async function brokerRunning(broker: BrokerName, env: Record<string, string> = {}): Promise<boolean> {
  return brokerScript(broker, 'status', env).then(
    () => true,
    () => false,
  );
}

/** Starts the broker (idempotent) and returns its address: the AMQP URL or the Kafka bootstrap list. */
export async function startBroker(broker: BrokerName, env: Record<string, string> = {}): Promise<string> {
  const out = await brokerScript(broker, 'start', env);
  const line = out
    .split('\n')
    .reverse()
    .find((l) => /^(RABBITMQ_URL|KAFKA_BOOTSTRAP)=/.test(l));
  if (!line) throw new Error(`scripts/services/${broker}.sh start printed no address:\n${out}`);
  return line.slice(line.indexOf('=') + 1);
}
