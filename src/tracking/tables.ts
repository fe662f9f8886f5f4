/** Row types of the tables in src/tracking/migrations.ts (columns added to existing tables are in store/schema.ts). */

export interface MlflowArtifactsTable {
  path: string;
  sha256: string;
  size_bytes: number;
  created_at: string;
}

export interface MlflowRegisteredModelsTable {
  model_id: string;
  tags: string; // JSON Record<string, string>
  user_id: string | null;
  updated_at: string;
}

export interface MlflowModelVersionsTable {
  model_id: string;
  version: number;
  source: string;
  run_id: string | null;
  description: string | null;
  tags: string; // JSON Record<string, string>
  status_message: string | null;
  vitals_version_id: string | null;
  user_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface TrackingTables {
  mlflow_artifacts: MlflowArtifactsTable;
  mlflow_registered_models: MlflowRegisteredModelsTable;
  mlflow_model_versions: MlflowModelVersionsTable;
}
