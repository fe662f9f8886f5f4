/**
 * Consumes `patient_data`: an event that carries ground truth attaches it to the earlier predictions
 * it names (joined by prediction id); other patient events are acknowledged and left to other groups.
 *
 * A label for a prediction not found yet is retried with backoff (the prediction may still be in
 * another replica's write queue) and dead-lettered after the last attempt. Attaching is idempotent,
 * so a redelivered message does no harm. A label the model does not have, or one that differs from
 * the label already attached (relabelling needs the API's overwrite: true), is dead-lettered at once.
 */
import { type BusMessage, PermanentMessageError } from './bus.js';
import { groundTruthOf, parseMessage, patientDataMessage } from './message-schemas.js';

export interface GroundTruthSink {
  attachGroundTruth(predictionId: string, value: string | number): Promise<unknown>;
}

export interface GroundTruthConsumerStats {
  labels_attached: number;
  events_without_labels: number;
}

export function groundTruthConsumer(sink: GroundTruthSink, stats: GroundTruthConsumerStats = { labels_attached: 0, events_without_labels: 0 }) {
  return async (payload: unknown, _message: BusMessage): Promise<void> => {
    const labels = groundTruthOf(parseMessage(patientDataMessage, payload));
    if (!labels.length) {
      stats.events_without_labels++;
      return;
    }
    const missing: string[] = [];
    for (const { prediction_id, value } of labels) {
      try {
        await sink.attachGroundTruth(prediction_id, value);
        stats.labels_attached++;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // a label the model does not have, or a different second label: retrying cannot help
        if (code === 'INVALID_LABEL' || code === 'GROUND_TRUTH_EXISTS') throw new PermanentMessageError((err as Error).message, { cause: err });
        if (code !== 'PREDICTION_NOT_FOUND') throw err;
        missing.push(prediction_id);
      }
    }
    if (missing.length) throw new Error(`predictions not found (yet): ${missing.join(', ')}`);
  };
}
