/** The messaging tables: the outbox and the embedded bus. Never edit a shipped migration. */
import type { Kysely, Migration } from 'kysely';

const messaging: Migration = {
  async up(db: Kysely<any>) {
    // Platform events written in the same transaction as the state change; the relay publishes and deletes them.
    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey()) // UUIDv7: relay order, and the message id consumers dedupe on
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('bus_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('published_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bus_messages_topic_idx').on('bus_messages').columns(['topic', 'id']).execute();

    await db.schema
      .createTable('bus_groups')
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('bus_groups_pk', ['topic', 'group_name'])
      .execute();

    // One row per (group, message) not yet handled: deleted on ack, leased while a consumer works on it.
    await db.schema
      .createTable('bus_deliveries')
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('available_at', 'text', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'text')
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('bus_deliveries_pk', ['topic', 'group_name', 'message_id'])
      .execute();
    await db.schema.createIndex('bus_deliveries_key_idx').on('bus_deliveries').columns(['topic', 'group_name', 'msg_key', 'message_id']).execute();
    await db.schema.createIndex('bus_deliveries_message_idx').on('bus_deliveries').columns(['message_id']).execute();

    await db.schema
      .createTable('bus_dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('error', 'text', (c) => c.notNull())
      .addColumn('failed_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bus_dead_letters_group_idx').on('bus_dead_letters').columns(['topic', 'group_name', 'id']).execute();
  },
};

export const messagingMigrations: Record<string, Migration> = { '0003_messaging': messaging };
