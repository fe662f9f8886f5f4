/**
 * MLflow's error contract: a body `{ error_code, message }` whose code the official client reads
 * (e.g. `RESOURCE_DOES_NOT_EXIST` makes `get_experiment_by_name` return None), with MLflow's status
 * for each code (mlflow/exceptions.py). Services throw VitalsError; `mlflowError` tags one with the
 * exact MLflow code where the Vitals code alone would be ambiguous.
 */
import { type ErrorCode, VitalsError } from '../../errors.js';

export const MLFLOW_ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type MlflowErrorCode = keyof typeof MLFLOW_ERROR_STATUS;

const VITALS_CODE_FOR: Record<MlflowErrorCode, ErrorCode> = {
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_PARAMETER_VALUE: 'BAD_REQUEST',
  RESOURCE_ALREADY_EXISTS: 'CONFLICT',
  RESOURCE_DOES_NOT_EXIST: 'NOT_FOUND',
  ENDPOINT_NOT_FOUND: 'NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  PERMISSION_DENIED: 'UNAUTHORIZED',
  REQUEST_LIMIT_EXCEEDED: 'PAYLOAD_TOO_LARGE',
  INTERNAL_ERROR: 'INTEGRITY_ERROR',
  TEMPORARILY_UNAVAILABLE: 'SHUTTING_DOWN',
};

/** A VitalsError carrying the MLflow code it must answer with. */
export function mlflowError(code: MlflowErrorCode, message: string): VitalsError {
  return new VitalsError(VITALS_CODE_FOR[code], message, { mlflow_error_code: code });
}

export const invalidParameter = (message: string) => mlflowError('INVALID_PARAMETER_VALUE', message);
export const doesNotExist = (message: string) => mlflowError('RESOURCE_DOES_NOT_EXIST', message);

/** The MLflow code and status for a Vitals error. */
export function toMlflowError(err: VitalsError): { status: number; error_code: MlflowErrorCode } {
  const explicit = err.details?.mlflow_error_code as MlflowErrorCode | undefined;
  if (explicit && explicit in MLFLOW_ERROR_STATUS) return { status: MLFLOW_ERROR_STATUS[explicit], error_code: explicit };
  switch (err.code) {
    case 'NOT_FOUND':
    case 'MODEL_NOT_FOUND':
    case 'VERSION_NOT_FOUND':
    case 'PREDICTION_NOT_FOUND':
    case 'FEATURE_DISABLED':
      return { status: 404, error_code: 'RESOURCE_DOES_NOT_EXIST' };
    case 'VERSION_EXISTS':
      return { status: 400, error_code: 'RESOURCE_ALREADY_EXISTS' };
    case 'UNAUTHORIZED':
      return { status: 401, error_code: 'UNAUTHENTICATED' };
    case 'PAYLOAD_TOO_LARGE':
      return { status: 413, error_code: 'BAD_REQUEST' };
    default:
      if (err.statusCode >= 500) return { status: err.statusCode === 503 ? 503 : 500, error_code: err.statusCode === 503 ? 'TEMPORARILY_UNAVAILABLE' : 'INTERNAL_ERROR' };
      // CONFLICT (a state that forbids the change), VALIDATION_FAILED, UNSUPPORTED_MEDIA_TYPE…
      return { status: 400, error_code: 'INVALID_PARAMETER_VALUE' };
  }
}
