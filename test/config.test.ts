import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ env: {}, dotenvFile: false });
    expect(c).toMatchObject({
      PORT: 8000,
      VITALS_HOME: '.vitals',
      DATA_DRIFT_THRESHOLD: 0.1,
      MODEL_DECAY_THRESHOLD: 0.05,
      MONITORING_WINDOW_SIZE: 1000,
      MONITORING_CHECK_INTERVAL: 3600,
      RETRAIN_SCHEDULE_DAYS: 30,
      MESSAGE_QUEUE_TYPE: 'embedded',
      MAX_IMAGE_SIZE_MB: 50,
      DEVICE: 'auto',
      ENABLE_BATCHING: true,
      METRICS_ENABLED: true,
      KAFKA_TOPIC_PATIENT_DATA: 'patient-data',
    });
    expect(c.SUPPORTED_IMAGE_FORMATS).toEqual(['png', 'jpg', 'jpeg', 'tiff', 'tif', 'dcm', 'nii', 'nii.gz']);
  });

  it('layers YAML file < .env < environment, and accepts the seed spellings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-config-'));
    writeFileSync(join(dir, 'vitals.yaml'), 'port: 9000\nbatch_size: 8\nCACHE_TTL: 60\nLOG_LEVEL: WARNING\n');
    writeFileSync(join(dir, '.env'), 'BATCH_SIZE=16\nUNRELATED=1\n');
    const c = loadConfig({ configFile: join(dir, 'vitals.yaml'), dotenvFile: join(dir, '.env'), env: { CACHE_TTL: '120', ENABLE_BATCHING: 'False', MODEL_MONITORING_ENABLED: 'True' } });
    expect(c.PORT).toBe(9000);
    expect(c.BATCH_SIZE).toBe(16);
    expect(c.CACHE_TTL).toBe(120);
    expect(c.LOG_LEVEL).toBe('warn');
    expect(c.ENABLE_BATCHING).toBe(false);
    expect(c.MODEL_MONITORING_ENABLED).toBe(true);
  });

  it('stops on an invalid value with a message naming every bad setting', () => {
    let err: unknown;
    try {
      loadConfig({ env: { PORT: 'eighty', DEVICE: 'tpu', DATA_DRIFT_THRESHOLD: '3' }, dotenvFile: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/PORT="eighty"/);
    expect(msg).toMatch(/DEVICE="tpu"/);
    expect(msg).toMatch(/DATA_DRIFT_THRESHOLD="3"/);
  });

  it('rejects unknown keys in the YAML file, so typos do not pass silently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitals-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'batch_sise: 8\n');
    expect(() => loadConfig({ configFile: join(dir, 'bad.yaml'), env: {}, dotenvFile: false })).toThrow(/unknown setting "batch_sise"/);
  });
});
