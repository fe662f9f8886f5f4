/** Row types of monitoring's own tables added after 0002_monitoring (see migrations.ts). */

/** One step in handling an alert: append-only, so the table is the alert's audit trail. */
export interface AlertEventsTable {
  id: string;
  alert_id: string;
  /** acknowledged | assigned | commented | resolved | action_taken */
  action: string;
  actor: string;
  comment: string | null;
  assignee: string | null;
  /** for action_taken: rollback | retrain | release_test | none */
  action_kind: string | null;
  /** what the action produced or pointed at (a pipeline run id, a release test id, a version) */
  reference: string | null;
  created_at: string;
}

/** A model's registered acceptance criteria (change control): one row per model. */
export interface AcceptancePlansTable {
  model_id: string;
  criteria: string; // JSON AcceptanceCriterion[]
  registered_by: string;
  registered_at: string;
}

/** One evaluation of a version against its model's criteria: the evidence, kept. */
export interface AcceptanceEvidenceTable {
  id: string;
  model_id: string;
  version_id: string;
  passed: number; // 0 | 1
  evidence: string; // JSON AcceptanceEvidence
  created_at: string;
}

/** How a model's labels follow from a report's observations (report-ground-truth.ts): one row per model. */
export interface ReportLabelPoliciesTable {
  model_id: string;
  observation: string;
  positive_label: string;
  negative_label: string;
  /** positive | negative | skip */
  uncertain: string;
  /** negative | skip | negative_if_no_finding */
  absent: string;
  set_by: string;
  set_at: string;
}

export interface MonitoringSchema {
  alert_events: AlertEventsTable;
  acceptance_plans: AcceptancePlansTable;
  acceptance_evidence: AcceptanceEvidenceTable;
  report_label_policies: ReportLabelPoliciesTable;
}
