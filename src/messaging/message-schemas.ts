/**
 * Schemas of the messages Vitals consumes (docs/messaging.md shows examples). Producers outside
 * Vitals may wrap fields in the seed's `{patient_id, event_type, data: {...}}` envelope: fields are
 * read from the top level first, then from `data`.
 */
import { z } from 'zod';
import { PermanentMessageError } from './bus.js';

const label = z.union([z.string().min(1), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? Number(v) : v));

/** `imaging_data`: an image (inline, by URL, or a file under MESSAGING_IMAGE_DIR) to run the image model on. */
export const imagingDataMessage = z
  .object({
    study_id: z.string().max(200).optional().describe('accession or study UID; the key of the result'),
    patient_id: z.string().max(200).optional().describe('a pseudonymous reference, echoed in the result'),
    event_type: z.string().optional(),
    model: z.string().optional().describe('registry reference (name, name@alias, name@1.2.0); default MODEL_NAME / MODEL_PATH'),
    image_base64: z.string().min(1).optional(),
    image_url: z
      .string()
      .regex(/^https?:\/\//, 'must be an http(s) URL')
      .optional(),
    image_path: z.string().min(1).optional().describe('relative to MESSAGING_IMAGE_DIR'),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .loose()
  .refine((m) => [m.image_base64, m.image_url, m.image_path].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of image_base64, image_url or image_path',
  });
export type ImagingDataMessage = z.output<typeof imagingDataMessage>;

const truthItem = z.object({
  prediction_id: z.string().min(1),
  ground_truth: label.optional(),
  value: label.optional(),
});

/**
 * `patient_data`: any patient event; one carrying ground truth labels earlier predictions, and one
 * carrying a radiology report (`text_report` with the study's UID or accession number) labels the
 * predictions made on that study.
 */
export const patientDataMessage = z
  .object({
    patient_id: z.string().optional(),
    event_type: z.string().optional(),
    prediction_id: z.string().min(1).optional(),
    ground_truth: z.union([label, z.array(truthItem)]).optional(),
    text_report: z.string().min(1).max(200_000).optional().describe('a radiology report for the study named by study_instance_uid, accession_number or study_id'),
    study_instance_uid: z.string().max(64).optional(),
    accession_number: z.string().max(64).optional(),
    study_id: z.string().max(200).optional().describe('accession or study UID (as on imaging_data)'),
  })
  .loose();
export type PatientDataMessage = z.output<typeof patientDataMessage>;

/** Lifts `data.*` fields to the top level (top-level fields win). */
export function flattenEnvelope(payload: unknown): Record<string, unknown> {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new PermanentMessageError('the message must be a JSON object');
  const p = payload as Record<string, unknown>;
  const data = p.data && typeof p.data === 'object' && !Array.isArray(p.data) ? (p.data as Record<string, unknown>) : {};
  return { ...data, ...p };
}

/** Parses with a schema; a mismatch is permanent (retrying cannot fix it), so it is dead-lettered at once. */
export function parseMessage<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const result = schema.safeParse(flattenEnvelope(payload));
  if (!result.success) {
    throw new PermanentMessageError(`invalid message: ${result.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** Ground-truth labels a patient_data message carries, as (prediction id, label) pairs. */
export function groundTruthOf(m: PatientDataMessage): Array<{ prediction_id: string; value: string | number }> {
  if (Array.isArray(m.ground_truth)) {
    return m.ground_truth.map((t) => {
      const value = t.ground_truth ?? t.value;
      if (value === undefined) throw new PermanentMessageError(`ground_truth for ${t.prediction_id} has no value`);
      return { prediction_id: t.prediction_id, value };
    });
  }
  if (m.ground_truth !== undefined) {
    if (!m.prediction_id) throw new PermanentMessageError('ground_truth needs a prediction_id (or a list of {prediction_id, ground_truth})');
    return [{ prediction_id: m.prediction_id, value: m.ground_truth }];
  }
  return [];
}
