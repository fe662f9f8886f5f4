/**
 * Consumes `patient_data`: an event that carries ground truth attaches it to the earlier predictions
 * it names (joined by prediction id); an event that carries a radiology report (`text_report`) labels
 * the predictions made on its study (monitoring/report-ground-truth.ts); other patient events are
 * acknowledged and left to other groups.
 *
 * A label for a prediction not found yet is retried with backoff (the prediction may still be in
 * another replica's write queue) and dead-lettered after the last attempt. Attaching is idempotent,
 * so a redelivered message does no harm. A label the model does not have, or one that differs from
 * the label already attached (relabelling needs the API's overwrite: true), is dead-lettered at once.
 */
import { identifiersFromStudyId } from '../multimodal/index.js';
import { type BusMessage, PermanentMessageError } from './bus.js';
import { groundTruthOf, parseMessage, patientDataMessage } from './message-schemas.js';

export interface GroundTruthSink {
  attachGroundTruth(predictionId: string, value: string | number, audit?: undefined, options?: { source?: 'message' }): Promise<unknown>;
}

/** Where reports go (ReportGroundTruth satisfies it). */
export interface ReportSink {
  ingest(report: { text: string; study_instance_uid?: string; accession_number?: string }): Promise<{ matched: number; labelled: number }>;
}

export interface GroundTruthConsumerStats {
  labels_attached: number;
  events_without_labels: number;
  reports_received?: number;
  /** reports whose study no prediction was made on (acknowledged: most reports are of such studies) */
  reports_unmatched?: number;
  report_labels_attached?: number;
}

export function groundTruthConsumer(sink: GroundTruthSink, stats: GroundTruthConsumerStats = { labels_attached: 0, events_without_labels: 0 }, reports?: ReportSink) {
  return async (payload: unknown, _message: BusMessage): Promise<void> => {
    const m = parseMessage(patientDataMessage, payload);
    if (m.text_report !== undefined && reports) {
      await ingestReport(m, reports, stats);
      if (m.ground_truth === undefined) return;
    }
    const labels = groundTruthOf(m);
    if (!labels.length) {
      stats.events_without_labels++;
      return;
    }
    const missing: string[] = [];
    for (const { prediction_id, value } of labels) {
      try {
        await sink.attachGroundTruth(prediction_id, value, undefined, { source: 'message' });
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

async function ingestReport(
  m: { text_report?: string; study_instance_uid?: string; accession_number?: string; study_id?: string },
  reports: ReportSink,
  stats: GroundTruthConsumerStats,
): Promise<void> {
  const fromStudyId = identifiersFromStudyId(m.study_id);
  const ids = {
    study_instance_uid: m.study_instance_uid ?? fromStudyId.studyInstanceUid,
    accession_number: m.accession_number ?? fromStudyId.accessionNumber,
  };
  try {
    const result = await reports.ingest({ text: m.text_report!, ...ids });
    stats.reports_received = (stats.reports_received ?? 0) + 1;
    if (result.matched === 0) stats.reports_unmatched = (stats.reports_unmatched ?? 0) + 1;
    stats.report_labels_attached = (stats.report_labels_attached ?? 0) + result.labelled;
  } catch (err) {
    // no study named, or not a UID: no retry can fix the message
    if ((err as { code?: string }).code === 'VALIDATION_FAILED') throw new PermanentMessageError((err as Error).message, { cause: err });
    throw err;
  }
}
