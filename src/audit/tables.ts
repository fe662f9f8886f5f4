/** The audit capability's table: an append-only, hash-chained record of every state change. */
export interface AuditEventsTable {
  /** position in the chain, 1, 2, 3…; a gap means a removed row */
  seq: number;
  id: string;
  at: string;
  principal: string;
  role: string;
  action: string;
  target: string;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  client: string | null;
  /** JSON object: what changed (e.g. old and new ground truth) */
  details: string;
  /** the previous row's hash ('' for the first row) */
  prev_hash: string;
  /** sha256 over the canonical form of this row and prev_hash */
  hash: string;
}

export interface AuditSchema {
  audit_events: AuditEventsTable;
}
