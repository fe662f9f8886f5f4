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

export interface MonitoringTables {
  alert_events: AlertEventsTable;
}
