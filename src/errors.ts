/**
 * The one registry of user-facing error codes (Fastify's pattern): each code has its HTTP status,
 * and the server maps any VitalsError to `{ error, code, message, details? }` in one place.
 */
export const errorCodes = {
  BAD_REQUEST: 400,
  INVALID_IMAGE: 400,
  MISSING_FILE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  FEATURE_DISABLED: 404,
  MODEL_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  PREDICTION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  VERSION_EXISTS: 409,
  /** a second, different label for a prediction sent without overwrite: true */
  GROUND_TRUTH_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  VALIDATION_FAILED: 422,
  /** ground truth that is not one of the model's labels (or not a number for regression) */
  INVALID_LABEL: 422,
  RATE_LIMITED: 429,
  /** a well-formed image whose content contradicts itself or cannot be processed (multimodal) */
  UNPROCESSABLE_IMAGE: 422,
  INTEGRITY_ERROR: 500,
  INFERENCE_FAILED: 500,
  UPSTREAM_FAILED: 502,
  MODEL_NOT_LOADED: 503,
  SHUTTING_DOWN: 503,
  LOG_BACKLOG_FULL: 503,
  /** the prediction log's database write failed; the row is kept and retried (PREDICTION_LOG_ACK=commit) */
  LOG_UNAVAILABLE: 503,
  /** the inference queue is at INFERENCE_MAX_QUEUE: back-pressure, retry after the Retry-After header */
  PREDICTION_QUEUE_FULL: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldProblem {
  field: string;
  message: string;
}

export class VitalsError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { fields?: FieldProblem[]; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'VitalsError';
    this.statusCode = errorCodes[code];
  }
}

export const notFound = (what: string, code: ErrorCode = 'NOT_FOUND') => new VitalsError(code, `${what} not found`);

export function validationFailed(fields: FieldProblem[], summary = 'input failed validation'): VitalsError {
  const list = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new VitalsError('VALIDATION_FAILED', `${summary}: ${list}`, { fields });
}
