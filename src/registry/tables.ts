/** The registry capability's tables. JSON columns are stored as text in both databases. */

export interface ModelsTable {
  id: string;
  name: string;
  task: string;
  modality: string;
  description: string | null;
  tags: string; // JSON string[]
  created_at: string;
  updated_at: string;
}
export interface ModelVersionsTable {
  id: string;
  model_id: string;
  version: string;
  /** numeric parts of the semantic version, for ordering in SQL */
  major: number;
  minor: number;
  patch: number;
  status: string;
  artifact_sha256: string;
  artifact_size: number;
  input_spec: string; // JSON InputSpec
  output_spec: string; // JSON OutputSpec
  metrics: string; // JSON Record<string, number>
  params: string; // JSON
  metadata: string; // JSON
  reference_profile: string | null; // JSON ReferenceProfile
  lineage: string; // JSON
  created_by: string;
  created_at: string;
}
export interface ModelAliasesTable {
  model_id: string;
  alias: string;
  version_id: string;
  updated_at: string;
}
export interface ModelEventsTable {
  id: string;
  model_id: string;
  action: string;
  alias: string | null;
  from_version_id: string | null;
  to_version_id: string | null;
  actor: string;
  reason: string | null;
  created_at: string;
}
export interface ArtifactsTable {
  sha256: string;
  size_bytes: number;
  media_type: string;
  created_at: string;
}

export interface RegistrySchema {
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  model_events: ModelEventsTable;
  artifacts: ArtifactsTable;
}
