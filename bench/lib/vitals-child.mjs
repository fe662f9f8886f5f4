// What the Vitals benchmark children (vitals-server.mjs, vitals-image-server.mjs) share: reading a
// histogram's totals from the app's metrics, and a shutdown that drains the prediction log and then
// counts its rows in the database file (so the parent can check no answered prediction was lost).
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';

/** { sum, count } of a prom-client histogram of the app's registry. */
export async function histogramTotals(services, name) {
  const v = (await services.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return { sum: v.filter((x) => x.metricName?.endsWith('_sum')).reduce((a, x) => a + x.value, 0), count: v.filter((x) => x.metricName?.endsWith('_count')).reduce((a, x) => a + x.value, 0) };
}

/** Closes the app (close() drains the log), then counts the model's rows from the SQLite file. */
export async function closeAndCount(vitals, settings, modelId) {
  await vitals.close();
  const sqlite = new SqliteDatabase(join(settings.VITALS_HOME, 'vitals.db'), { readonly: true });
  const logged = sqlite.prepare('select count(*) as n from prediction_logs where model_id = ?').get(modelId).n;
  sqlite.close();
  return { logged, pending: vitals.services.predictionLog.pending };
}
