/** The messaging capability's tables: the outbox and the embedded bus. JSON columns are stored as text in both databases. */

export interface OutboxTable {
  id: string;
  topic: string; // logical topic (patient_data, alerts, ...)
  msg_key: string | null;
  payload: string; // JSON
  headers: string | null; // JSON Record<string, string>
  attempts: number;
  last_error: string | null;
  created_at: string;
}
export interface BusMessagesTable {
  id: string;
  topic: string; // broker topic name
  msg_key: string | null;
  payload: string; // JSON text as published
  headers: string | null; // JSON Record<string, string>
  published_at: string;
}
export interface BusGroupsTable {
  topic: string;
  group_name: string;
  created_at: string;
}
export interface BusDeliveriesTable {
  topic: string;
  group_name: string;
  message_id: string;
  msg_key: string | null;
  /** deliveries so far (claims count, so a message that crashes its consumer is dead-lettered too) */
  attempts: number;
  available_at: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
}
export interface BusDeadLettersTable {
  id: string;
  message_id: string;
  topic: string;
  group_name: string;
  msg_key: string | null;
  payload: string;
  headers: string | null;
  attempts: number;
  error: string;
  failed_at: string;
}

export interface MessagingSchema {
  outbox: OutboxTable;
  bus_messages: BusMessagesTable;
  bus_groups: BusGroupsTable;
  bus_deliveries: BusDeliveriesTable;
  bus_dead_letters: BusDeadLettersTable;
}
